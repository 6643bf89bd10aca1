/*
 * File locks brokered by cellblock-init. A lock on an inode that concurrent jobs share (the
 * read-only /usr or image, a bound /etc file, /dev/null) would be a channel between them, so the
 * filter sends every lock call (flock, fcntl F_SETLK/F_SETLKW/F_OFD_SETLK/F_OFD_SETLKW) to the init
 * as a seccomp user notification instead of letting it run. The init takes a duplicate of the very
 * file object the call names (pidfd_getfd), checks that object — a regular file or directory on one
 * of the job's own mounts (/tmp, /dev/shm, the working directory's: per-job tmpfs and the job's
 * work dir) — and performs the lock on it itself, then answers the call with the result. It never
 * lets the call continue: a thread could swap the descriptor between our check and the kernel's
 * second look. Locks on anything else get ENOLCK.
 *
 * fcntl record locks are taken as open-file-description (OFD) locks on the same open file, which
 * is what the job's descriptor refers to: closing the job's last descriptor releases them, as does
 * its exit. Differences from POSIX record locks: processes sharing one open file (fork) share its
 * locks, closing one of several descriptors of a file keeps them, and F_GETLK reports l_pid -1.
 * A blocking request that would block stays pending (the calling thread waits in the kernel) and
 * is retried every few milliseconds; a signal to the caller or its exit withdraws it.
 *
 * Runs in the init: raw syscalls only, no libc, static memory.
 */
#define _GNU_SOURCE
#include "init-locks.h"

#include "syscalls.h"

#include <fcntl.h>
#include <stdint.h>
#include <linux/stat.h>
#include <sys/file.h>
#include <sys/uio.h>

void *memset(void *d, int c, size_t n);

enum { MAX_PRIVATE_MOUNTS = 3, MAX_PENDING = 64, PIDFD_THREAD_FLAG = O_EXCL };

struct pending {
    uint64_t id;
    int fd;       /* our duplicate of the job's open file */
    int is_flock; /* else an fcntl record lock */
    int flock_op;
    struct flock fl;
};

static struct {
    uint64_t mounts[MAX_PRIVATE_MOUNTS];
    int n_mounts;
    struct pending pending[MAX_PENDING];
    int n_pending;
} g;

static long mount_id_of(int dirfd, const char *path, int flags, struct statx *st) {
    long r = SB_SYS5(SYS_statx, dirfd, path, flags, STATX_TYPE | STATX_MNT_ID, st);
    if (r < 0) return r;
    return (st->stx_mask & STATX_MNT_ID) ? 0 : -22;
}

void sb_locks_init(const char *cwd) {
    struct statx st, root;
    memset(&root, 0, sizeof root);
    if (mount_id_of(AT_FDCWD, "/", 0, &root) < 0) return; /* no mount ids: every lock is refused */
    const char *paths[MAX_PRIVATE_MOUNTS] = {"/tmp", "/dev/shm", cwd};
    for (int i = 0; i < MAX_PRIVATE_MOUNTS; i++) {
        memset(&st, 0, sizeof st);
        /* The root is an image or a tmpfs holding binds of host trees: never the job's own. */
        if (mount_id_of(AT_FDCWD, paths[i], 0, &st) < 0 || st.stx_mnt_id == root.stx_mnt_id) continue;
        g.mounts[g.n_mounts++] = st.stx_mnt_id;
    }
}

static int is_lock_cmd(uint32_t cmd) {
    return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

static int is_blocking_cmd(uint32_t cmd) {
    return cmd == F_SETLKW || cmd == F_OFD_SETLKW;
}

int sb_locks_handles(const struct seccomp_notif *n) {
    return n->data.nr == SYS_flock || n->data.nr == SYS_fcntl;
}

void sb_notif_respond(int listener, __u64 id, long result) {
    struct seccomp_notif_resp r;
    memset(&r, 0, sizeof r);
    r.id = id;
    if (result < 0)
        r.error = (int32_t)result;
    else
        r.val = result;
    SB_SYS3(SYS_ioctl, listener, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

/* A regular file or directory on one of the job's own mounts. */
static int is_private(int fd) {
    struct statx st;
    memset(&st, 0, sizeof st);
    if (mount_id_of(fd, "", AT_EMPTY_PATH, &st) < 0) return 0;
    unsigned type = st.stx_mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR) return 0;
    for (int i = 0; i < g.n_mounts; i++)
        if (g.mounts[i] == st.stx_mnt_id) return 1;
    return 0;
}

static long try_lock(const struct pending *p) {
    if (p->is_flock) return SB_SYS2(SYS_flock, p->fd, p->flock_op | LOCK_NB);
    struct flock fl = p->fl;
    return SB_SYS3(SYS_fcntl, p->fd, F_OFD_SETLK, &fl);
}

static int would_block(long r) {
    return r == -11 /* EAGAIN, EWOULDBLOCK */ || r == -13 /* EACCES */;
}

/* Our duplicate of the caller's descriptor, or -errno. */
static long take_file(const struct seccomp_notif *n) {
    /* n->pid is the calling thread: PIDFD_THREAD (Linux 6.9) names any thread; before it, only a
     * process's main thread has a pidfd, and a lock from another thread gets ENOLCK. */
    long pidfd = SB_SYS2(SYS_pidfd_open, n->pid, PIDFD_THREAD_FLAG);
    if (pidfd < 0) pidfd = SB_SYS2(SYS_pidfd_open, n->pid, 0);
    if (pidfd < 0) return -37; /* ENOLCK */
    long fd = SB_SYS3(SYS_pidfd_getfd, pidfd, (int)n->data.args[0], 0);
    SB_SYS1(SYS_close, pidfd);
    return fd;
}

void sb_locks_handle(int listener, const struct seccomp_notif *n) {
    const uint32_t cmd = (uint32_t)n->data.args[1];
    if (n->data.nr == SYS_fcntl && !is_lock_cmd(cmd)) {
        sb_notif_respond(listener, n->id,
                         -22); /* a command newer than the policy: EINVAL, as an older kernel */
        return;
    }
    long fd = take_file(n);
    if (fd < 0) {
        sb_notif_respond(listener, n->id, fd == -9 ? -9 /* EBADF */ : -37 /* ENOLCK */);
        return;
    }
    /* The pid we read from is still the caller (not reused): its notification is still pending. */
    uint64_t id = n->id;
    if (SB_SYS3(SYS_ioctl, listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) {
        SB_SYS1(SYS_close, fd);
        return;
    }
    struct pending p;
    memset(&p, 0, sizeof p);
    p.id = n->id;
    p.fd = (int)fd;
    p.is_flock = n->data.nr == SYS_flock;
    p.flock_op = (int)n->data.args[1] & ~LOCK_NB;
    int blocking = p.is_flock ? !((int)n->data.args[1] & LOCK_NB) : is_blocking_cmd(cmd);
    long r = -37; /* ENOLCK: not one of the job's own files */
    if (is_private(p.fd)) {
        r = 0;
        if (!p.is_flock) {
            /* Our own copy of the caller's struct flock: what it changes later does not matter. */
            struct iovec local = {&p.fl, sizeof p.fl}, remote = {(void *)n->data.args[2], sizeof p.fl};
            if (sb_sys6(SYS_process_vm_readv, n->pid, (long)&local, 1, (long)&remote, 1, 0) !=
                (long)sizeof p.fl)
                r = -14; /* EFAULT */
            p.fl.l_pid = 0;
        }
        if (r == 0) r = try_lock(&p);
        if (would_block(r) && blocking && g.n_pending < MAX_PENDING) {
            g.pending[g.n_pending++] = p;
            return;
        }
    }
    sb_notif_respond(listener, n->id, r);
    SB_SYS1(SYS_close, p.fd);
}

int sb_locks_retry(int listener) {
    for (int i = 0; i < g.n_pending;) {
        struct pending *p = &g.pending[i];
        uint64_t id = p->id;
        long r = 0;
        int gone = SB_SYS3(SYS_ioctl, listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0;
        if (!gone) r = try_lock(p);
        if (!gone && would_block(r)) {
            i++;
            continue;
        }
        if (!gone) sb_notif_respond(listener, p->id, r);
        SB_SYS1(SYS_close, p->fd);
        g.pending[i] = g.pending[--g.n_pending];
    }
    return g.n_pending;
}
