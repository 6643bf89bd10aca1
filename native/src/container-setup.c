/*
 * The container side of a run: the init (PID 1 of the new PID namespace) and the payload it spawns.
 *
 * Both are CLONE_VM children: they run in the Node process's address space until the payload
 * execs. Everything here is async-signal-safe by construction: raw syscalls from syscalls.h, no
 * libc calls that allocate, lock or touch errno, data only from the pre-built plan and the stack.
 *
 * The init, as uid 0 of its own user namespace (full capabilities over its namespaces, none on
 * the host), builds the filesystem from the mount plan, pivots into it, then spawns the payload
 * with CLONE_VM|CLONE_VFORK. The payload drops every privilege (ids, capabilities, no_new_privs),
 * installs the seccomp filter last and execs the program. The init stays as a reaper: when the
 * payload exits it records the wait status in the plan and exits, and the kernel kills whatever
 * else is left in the PID namespace.
 *
 * Failures are reported as {step, errno} on the CLOEXEC error pipe; the parent reads EOF when the
 * payload's execve succeeded (its copy closes on exec, the init closes its own after the spawn).
 */
#define _GNU_SOURCE
#include "sandbox.h"
#include "syscalls.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void report(const struct sb_plan *p, int step, long err) {
    struct sb_error_record rec = {step, (int32_t)-err};
    SB_SYS3(SYS_write, p->err_w, &rec, sizeof rec);
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

static long run_op(const struct sb_op *op) {
    const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV;
    long r;
    switch (op->kind) {
    case SB_OP_TMPFS:
        return do_mount("tmpfs", op->dst, "tmpfs", MS_NOSUID | MS_NODEV | op->flags, op->data);
    case SB_OP_BIND:
        r = do_mount(op->src, op->dst, 0, MS_BIND | MS_REC, 0);
        if (r < 0 || !(op->flags & MS_RDONLY)) return r;
        /* A bind ignores flags; only the remount makes it read-only. */
        return do_mount(0, op->dst, 0, MS_BIND | MS_REMOUNT | ro, 0);
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
        return do_mount("proc", op->dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
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

/* Close every descriptor but the plan's own: the init inherited a copy of Node's whole fd table
 * (sockets, epoll, the HTTP connections) and lives as long as the job. */
static long close_foreign_fds(const struct sb_plan *p) {
    int keep[5] = {p->go_r, p->err_w, p->stdin_r, p->stdout_w, p->stderr_w};
    for (int i = 1; i < 5; i++) /* insertion sort, 5 entries */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned int from = 3;
    for (int i = 0; i < 5; i++) {
        if ((unsigned int)keep[i] > from) {
            long r = SB_SYS3(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
            if (r < 0) return r;
        }
        from = (unsigned int)keep[i] + 1;
    }
    return SB_SYS3(SYS_close_range, from, ~0U, 0);
}

static long move_fd(int from, int to) {
    if (from == to) return SB_SYS3(SYS_fcntl, to, F_SETFD, 0); /* clear CLOEXEC */
    return SB_SYS3(SYS_dup3, from, to, 0);
}

static long drop_capabilities(const struct sb_plan *p) {
    long r = SB_SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (r < 0) return r;
    for (int cap = 0; cap <= p->cap_last_cap; cap++) {
        r = SB_SYS5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
        if (r < 0) return r;
    }
    return 0;
}

static long clear_capability_sets(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    return SB_SYS2(SYS_capset, &hdr, data);
}

/* The payload: becomes the job's program. Shares memory with the init (CLONE_VFORK: the init is
 * suspended until the execve or the _exit). */
static int payload_main(void *arg) {
    const struct sb_plan *p = arg;

    CHECK(p, SB_STEP_SETSID, SB_SYS0(SYS_setsid));
    CHECK(p, SB_STEP_STDIO, move_fd(p->stdin_r, 0));
    CHECK(p, SB_STEP_STDIO, move_fd(p->stdout_w, 1));
    CHECK(p, SB_STEP_STDIO, move_fd(p->stderr_w, 2));
    /* Everything else closes at exec; the error pipe must stay open until then. */
    CHECK(p, SB_STEP_STDIO, SB_SYS3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC));
    for (int i = 0; i < SB_RLIMIT_COUNT; i++)
        CHECK(p, SB_STEP_RLIMITS, SB_SYS4(SYS_prlimit64, 0, p->rlimit_resource[i], &p->rlimit_value[i], 0));

    CHECK(p, SB_STEP_CAPS, drop_capabilities(p));
    CHECK(p, SB_STEP_IDS_JOB, SB_SYS2(SYS_setgroups, 0, 0));
    CHECK(p, SB_STEP_IDS_JOB, SB_SYS3(SYS_setresgid, p->job_gid, p->job_gid, p->job_gid));
    CHECK(p, SB_STEP_IDS_JOB, SB_SYS3(SYS_setresuid, p->job_uid, p->job_uid, p->job_uid));
    CHECK(p, SB_STEP_CAPS, clear_capability_sets());
    CHECK(p, SB_STEP_CWD, SB_SYS1(SYS_chdir, p->cwd));
    CHECK(p, SB_STEP_NO_NEW_PRIVS, SB_SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

    /* Last: from here on only execve, write and exit_group are needed, all allowed. */
    CHECK(p, SB_STEP_SECCOMP, SB_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p->seccomp));
    uint64_t empty_mask = 0;
    SB_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, 0, sizeof empty_mask);
    long r = SB_SYS3(SYS_execve, p->argv[0], p->argv, p->envp);
    fail(p, SB_STEP_EXEC, r);
}

static void reset_signal_handlers(void) {
    /* The init is a copy of a Node thread: its handlers point into Node. Back to defaults, so no
     * Node code can ever run on this task (signals stay blocked, set by the parent before clone). */
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {SIG_DFL, 0, 0, 0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) SB_SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
}

int sb_init_main(void *arg) {
    struct sb_plan *p = arg;

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
    SB_SYS1(SYS_close, p->go_r);

    /* Until now this task carried host uid 0, unmapped here; become the namespace's root. */
    CHECK(p, SB_STEP_IDS_ROOT, SB_SYS3(SYS_setresgid, 0, 0, 0));
    CHECK(p, SB_STEP_IDS_ROOT, SB_SYS3(SYS_setresuid, 0, 0, 0));
    CHECK(p, SB_STEP_IDS_ROOT, SB_SYS2(SYS_setgroups, 0, 0));
    /* Now that the parent attached us, our cgroup becomes the namespace root: /proc/self/cgroup
     * shows "/" and nothing above is nameable. */
    CHECK(p, SB_STEP_UNSHARE_CGROUP, SB_SYS1(SYS_unshare, CLONE_NEWCGROUP));
    CHECK(p, SB_STEP_MAKE_PRIVATE, do_mount(0, "/", 0, MS_REC | MS_PRIVATE, 0));

    for (int i = 0; i < p->n_ops; i++)
        CHECK(p, i, run_op(&p->ops[i]));

    CHECK(p, SB_STEP_PIVOT, SB_SYS1(SYS_chdir, p->newroot));
    CHECK(p, SB_STEP_PIVOT, SB_SYS2(SYS_pivot_root, ".", "."));
    CHECK(p, SB_STEP_DETACH_OLD_ROOT, SB_SYS2(SYS_umount2, ".", MNT_DETACH));
    CHECK(p, SB_STEP_CHDIR_ROOT, SB_SYS1(SYS_chdir, "/"));
    /* The root itself (tmpfs or image bind) becomes read-only after everything is mounted in it. */
    CHECK(p, SB_STEP_CHDIR_ROOT,
          do_mount(0, "/", 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, 0));
    CHECK(p, SB_STEP_HOSTNAME, SB_SYS2(SYS_sethostname, p->hostname, sb_strlen(p->hostname)));
    CHECK(p, SB_STEP_HOSTNAME, SB_SYS2(SYS_setdomainname, "none", 4));

    long pid = 0;
    {
        /* glibc's clone() is a thin trampoline: it switches stacks and calls payload_main. */
        extern int clone(int (*)(void *), void *, int, void *, ...);
        pid = clone(payload_main, p->payload_stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, p);
    }
    if (pid <= 0) fail(p, SB_STEP_SPAWN_PAYLOAD, -11 /* EAGAIN */);
    p->payload_pid = (int)pid;
    SB_SYS1(SYS_close, p->err_w);
    SB_SYS1(SYS_close, p->stdin_r);
    SB_SYS1(SYS_close, p->stdout_w);
    SB_SYS1(SYS_close, p->stderr_w);

    /* Reap everything; the payload's status decides the run. Orphans reparent to us. */
    for (;;) {
        int status = 0;
        long r = SB_SYS4(SYS_wait4, -1, &status, __WALL, 0);
        if (r == -4) continue;
        if (r < 0) sb_exit(125); /* ECHILD: nothing left, yet the payload was not seen */
        if (r == pid) {
            p->payload_wait_status = status;
            __atomic_store_n(&p->payload_reaped, 1, __ATOMIC_RELEASE);
            sb_exit(0);
        }
    }
}
