/*
 * The container's setup: a CLONE_VM child of the supervising thread, PID 1 of the new PID
 * namespace, uid 0 of its own user namespace (full capabilities over its namespaces, none on the
 * host). It builds the filesystem from the mount plan, pivots into it, and then execs
 * cellblock-init from a sealed memfd, which gives PID 1 its own tiny address space.
 *
 * Until that exec this task runs in the Node process's address space: everything here is
 * async-signal-safe by construction (raw syscalls from syscalls.h, no allocation, no errno, data
 * only from the pre-built plan and the stack). Sharing Node's memory must end before the job's
 * program exists: a process sharing Node's mm inside the job's memory cgroup would be the OOM
 * killer's choice, and killing it kills every process sharing that mm, the worker included.
 *
 * Failures are reported as an SB_REC_ERROR record {step, errno} on the control pipe.
 */
#define _GNU_SOURCE
#include "sandbox.h"
#include "clear-groups.h"
#include "syscalls.h"

#include <fcntl.h>
#include <linux/prctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

static void report(const struct sb_plan *p, int step, long err) {
    struct sb_record rec = {SB_REC_ERROR, step, (int32_t)-err, 0, 0, 0};
    SB_SYS3(SYS_write, p->ctl_w, &rec, sizeof rec);
}

static __attribute__((noreturn)) void fail(const struct sb_plan *p, int step, long err) {
    report(p, step, err);
    sb_exit(127);
}

#define CHECK(p, step, expr)                                                                                 \
    do {                                                                                                     \
        long r_ = (expr);                                                                                    \
        if (r_ < 0) fail((p), (step), r_);                                                                   \
    } while (0)

static long do_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data) {
    return SB_SYS5(SYS_mount, src, dst, type, flags, data);
}

static int path_exists(const char *path) {
    return SB_SYS4(SYS_faccessat, AT_FDCWD, path, F_OK, 0) == 0;
}

static long write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        long n = SB_SYS3(SYS_write, fd, buf, len);
        if (n == -4 /* EINTR */) continue;
        if (n < 0) return n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static long create_file(const char *path, const char *data, size_t len) {
    long fd =
        SB_SYS4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return fd;
    long r = write_all((int)fd, data, len);
    SB_SYS1(SYS_close, fd);
    return r;
}

/* mount_setattr(2) (Linux 5.12), spelled out here: <linux/mount.h> clashes with <sys/mount.h>. */
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
struct sb_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
enum { SB_MOUNT_ATTR_RDONLY = 0x1, SB_MOUNT_ATTR_NOSUID = 0x2, SB_MOUNT_ATTR_NODEV = 0x4 };
enum { SB_AT_RECURSIVE = 0x8000 };

/* A read-only bind must be read-only, nosuid and nodev all the way down: a host tree with a
 * submount (a tmpfs under /usr, under an image, under a caller's bind) comes along with MS_REC,
 * and a remount changes only the top mount, which left the submount writable to the job and the
 * host. mount_setattr with AT_RECURSIVE sets the flags on the whole tree at once. Kernels before
 * 5.12 lack it: there the bind is redone without MS_REC, so submounts are simply not carried into
 * the container (the job sees the directory underneath), which is as safe and needs no walk. */
static long lock_down_bind(const struct sb_op *op) {
    struct sb_mount_attr attr = {SB_MOUNT_ATTR_RDONLY | SB_MOUNT_ATTR_NOSUID | SB_MOUNT_ATTR_NODEV, 0, 0, 0};
    long r = SB_SYS5(SYS_mount_setattr, AT_FDCWD, op->dst, SB_AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr,
                     sizeof attr);
    if (r != -38 /* ENOSYS */) return r;
    r = SB_SYS2(SYS_umount2, op->dst, MNT_DETACH);
    if (r == 0) r = do_mount(op->src, op->dst, 0, MS_BIND, 0);
    /* A bind ignores flags; only the remount makes it read-only. */
    return r < 0 ? r : do_mount(0, op->dst, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, 0);
}

static long run_op(const struct sb_op *op) {
    const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV;
    long r;
    switch (op->kind) {
    case SB_OP_TMPFS:
        return do_mount("tmpfs", op->dst, "tmpfs", MS_NOSUID | MS_NODEV | op->flags, op->data);
    case SB_OP_BIND:
        r = do_mount(op->src, op->dst, 0, MS_BIND | MS_REC, 0);
        if (r < 0 || !(op->flags & MS_RDONLY)) return r;
        return lock_down_bind(op);
    case SB_OP_MKDIR:
        r = SB_SYS3(SYS_mkdirat, AT_FDCWD, op->dst, 0755);
        return r == -17 /* EEXIST */ ? 0 : r;
    case SB_OP_MKFILE:
        return create_file(op->dst, "", 0);
    case SB_OP_SYMLINK:
        return SB_SYS3(SYS_symlinkat, op->data, AT_FDCWD, op->dst);
    case SB_OP_WRITE_FILE:
        return create_file(op->dst, op->data, op->data_len);
    case SB_OP_PROC:
        return do_mount("proc", op->dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, op->data);
    case SB_OP_REMOUNT_RO:
        if (!path_exists(op->dst)) return 0;
        r = do_mount(op->dst, op->dst, 0, MS_BIND | MS_REC, 0);
        if (r < 0) return r;
        return do_mount(0, op->dst, 0, MS_BIND | MS_REMOUNT | ro | MS_NOEXEC, 0);
    case SB_OP_MOUNT_RO:
        return do_mount(0, op->dst, 0, MS_BIND | MS_REMOUNT | ro | op->flags, 0);
    case SB_OP_MASK_FILE:
        if (!path_exists(op->dst)) return 0;
        return do_mount(op->src, op->dst, 0, MS_BIND, 0);
    case SB_OP_MASK_DIR:
        if (!path_exists(op->dst)) return 0;
        return do_mount("tmpfs", op->dst, "tmpfs", ro | MS_NOEXEC, "size=0,nr_inodes=1,mode=0555");
    case SB_OP_WRITE_SYSCTL: {
        long fd = SB_SYS4(SYS_openat, AT_FDCWD, op->dst, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) return fd;
        r = write_all((int)fd, op->data, op->data_len);
        SB_SYS1(SYS_close, fd);
        return r;
    }
    }
    return -22; /* EINVAL */
}

/* Close every descriptor but the plan's own: this task inherited a copy of Node's whole fd table
 * (sockets, epoll, the HTTP connections). */
static long close_foreign_fds(const struct sb_plan *p) {
    enum { N = 7 };
    int keep[N] = {p->go_r, p->ctl_w, p->stdin_r, p->stdout_w, p->stderr_w, p->seccomp_fd, p->init_fd};
    for (int i = 1; i < N; i++) /* insertion sort */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned int from = 3;
    for (int i = 0; i < N; i++) {
        if ((unsigned int)keep[i] > from) {
            long r = SB_SYS3(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
            if (r < 0) return r;
        }
        if ((unsigned int)keep[i] + 1 > from) from = (unsigned int)keep[i] + 1;
    }
    return SB_SYS3(SYS_close_range, from, ~0U, 0);
}

/* The descriptors cellblock-init needs must survive its exec. */
static long keep_across_exec(const struct sb_plan *p) {
    int fds[6] = {p->go_r, p->ctl_w, p->stdin_r, p->stdout_w, p->stderr_w, p->seccomp_fd};
    for (int i = 0; i < 6; i++) {
        long r = SB_SYS3(SYS_fcntl, fds[i], F_SETFD, 0);
        if (r < 0) return r;
    }
    return 0;
}

static void reset_signal_handlers(void) {
    /* This task is a copy of a Node thread: its handlers point into Node. Back to defaults, so no
     * Node code can ever run on it (signals stay blocked, as the parent set them before clone). */
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {SIG_DFL, 0, 0, 0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) SB_SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
}

int sb_container_main(void *arg) {
    const struct sb_plan *p = arg;

    /* If the supervising thread dies (worker crash), the container dies with it. */
    SB_SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    reset_signal_handlers();
    CHECK(p, SB_STEP_FDS, close_foreign_fds(p));

    /* Wait until the parent has written our id maps and put us in our cgroups. EOF instead of the
     * byte means the parent gave up: leave quietly. */
    char go = 0;
    long n;
    do
        n = SB_SYS3(SYS_read, p->go_r, &go, 1);
    while (n == -4);
    if (n != 1) sb_exit(126);

    /* Until now this task carried host uid 0, unmapped here; become the namespace's root. */
    CHECK(p, SB_STEP_IDS_ROOT, SB_SYS3(SYS_setresgid, 0, 0, 0));
    CHECK(p, SB_STEP_IDS_ROOT, SB_SYS3(SYS_setresuid, 0, 0, 0));
    CHECK(p, SB_STEP_IDS_ROOT, sb_clear_groups());
    /* Now that the parent attached us, our cgroup becomes the namespace root: /proc/self/cgroup
     * shows "/" and nothing above is nameable. */
    CHECK(p, SB_STEP_UNSHARE_CGROUP, SB_SYS1(SYS_unshare, CLONE_NEWCGROUP));
    CHECK(p, SB_STEP_MAKE_PRIVATE, do_mount(0, "/", 0, MS_REC | MS_PRIVATE, 0));

    for (int i = 0; i < p->n_ops; i++)
        CHECK(p, i, run_op(&p->ops[i]));

    CHECK(p, SB_STEP_PIVOT, SB_SYS1(SYS_chdir, p->newroot));
    CHECK(p, SB_STEP_PIVOT, SB_SYS2(SYS_pivot_root, ".", "."));
    CHECK(p, SB_STEP_DETACH_OLD_ROOT, SB_SYS2(SYS_umount2, ".", MNT_DETACH));
    CHECK(p, SB_STEP_ENTER_ROOT, SB_SYS1(SYS_chdir, "/"));
    /* The root itself (tmpfs or image bind) becomes read-only after everything is mounted in it. */
    CHECK(p, SB_STEP_ROOT_READ_ONLY,
          do_mount(0, "/", 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, 0));
    CHECK(p, SB_STEP_HOSTNAME, SB_SYS2(SYS_sethostname, p->hostname, sb_strlen(p->hostname)));
    CHECK(p, SB_STEP_HOSTNAME, SB_SYS2(SYS_setdomainname, "none", 4));

    CHECK(p, SB_STEP_EXEC_INIT, keep_across_exec(p));
    /* uid 0 of this namespace keeps its capabilities across the exec; cellblock-init is not on
     * any filesystem the job can reach (a sealed memfd, CVE-2019-5736). */
    long r = SB_SYS5(SYS_execveat, p->init_fd, "", p->init_argv, p->init_envp, AT_EMPTY_PATH);
    fail(p, SB_STEP_EXEC_INIT, r);
}
