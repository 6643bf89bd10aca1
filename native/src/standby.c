/*
 * Standby containers: everything of a run that does not depend on its job, done before the job
 * arrives (by the slot's preparer thread with prewarm, else on the run's own thread just before
 * it). That is the run's cgroup without limits, five pipes, the CLONE_VM setup child in fresh
 * namespaces, its id maps and the cgroup attach; the child then blocks on "go" (see supervise.c
 * for what follows). A standby is used for exactly one run, or discarded.
 */
#define _GNU_SOURCE
#include "run-parts.h"

#include "clone-into-cgroup.h"
#include "id-map.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

enum { STACK_SIZE = 256 * 1024 };

/* The pipes between the supervisor and the container; [0] is each one's read end. */
enum { PIPE_GO, PIPE_CTL, PIPE_IN, PIPE_OUT, PIPE_ERR, PIPE_N };

static int __attribute__((format(printf, 3, 4)))
prepare_fail(struct sb_standby *sb, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sb->setup_msg, sizeof sb->setup_msg, fmt, ap);
    va_end(ap);
    sb->setup_errno = err;
    sb_discard(sb);
    return -err;
}

static void close_pipes(int p[PIPE_N][2]) {
    for (int i = 0; i < PIPE_N; i++) {
        sb_close_fd(&p[i][0]);
        sb_close_fd(&p[i][1]);
    }
}

static int open_pipes(int p[PIPE_N][2]) {
    for (int i = 0; i < PIPE_N; i++)
        p[i][0] = p[i][1] = -1;
    for (int i = 0; i < PIPE_N; i++) {
        if (pipe2(p[i], O_CLOEXEC) < 0) {
            int rc = -errno;
            close_pipes(p);
            return rc;
        }
    }
    return 0;
}

/* The supervisor's end of each pipe moves into the standby (and out of p); the child's ends stay
 * in p, to be closed once the child has its copies, and are named in its plan and in
 * cellblock-init's argv. */
static void hand_out_pipes(struct sb_standby *sb, int p[PIPE_N][2]) {
    sb->go_w = p[PIPE_GO][1];
    sb->ctl_r = p[PIPE_CTL][0];
    sb->in_w = p[PIPE_IN][1];
    sb->out_r = p[PIPE_OUT][0];
    sb->err_r = p[PIPE_ERR][0];
    p[PIPE_GO][1] = p[PIPE_CTL][0] = p[PIPE_IN][1] = p[PIPE_OUT][0] = p[PIPE_ERR][0] = -1;
    struct sb_plan *plan = &sb->plan;
    plan->go_r = p[PIPE_GO][0];
    plan->ctl_w = p[PIPE_CTL][1];
    plan->stdin_r = p[PIPE_IN][0];
    plan->stdout_w = p[PIPE_OUT][1];
    plan->stderr_w = p[PIPE_ERR][1];
}

/* cellblock-init's argv: nothing in it depends on the job (that is the job message's) but the job's
 * ids, which are the slot's: the standby is made for them, and its payload takes them ahead. */
static void write_init_argv(struct sb_standby *sb, const struct sb_init_config *init) {
    const struct sb_plan *p = &sb->plan;
    unsigned values[SB_ARG_N] = {0};
    values[SB_ARG_CTL_FD] = p->ctl_w;
    values[SB_ARG_GO_FD] = p->go_r;
    values[SB_ARG_STDIN_FD] = p->stdin_r;
    values[SB_ARG_STDOUT_FD] = p->stdout_w;
    values[SB_ARG_STDERR_FD] = p->stderr_w;
    values[SB_ARG_SECCOMP_FD] = init->seccomp_fd;
    values[SB_ARG_SECCOMP_REFINE_LEN] = init->refine_len;
    values[SB_ARG_SECCOMP_MAIN_LEN] = init->main_len;
    values[SB_ARG_CAP_LAST] = init->cap_last;
    values[SB_ARG_JOB_UID] = sb->ids.job_uid;
    values[SB_ARG_JOB_GID] = sb->ids.job_gid;
    for (int i = 0; i < SB_ARG_N; i++) {
        if (i == SB_ARG_NAME)
            snprintf(sb->init_args[i], sizeof sb->init_args[i], "cellblock-init");
        else
            snprintf(sb->init_args[i], sizeof sb->init_args[i], "%u", values[i]);
        sb->init_argv[i] = sb->init_args[i];
    }
    sb->init_argv[SB_ARG_N] = NULL;
    sb->init_envp[0] = NULL;
    sb->plan.init_argv = sb->init_argv;
    sb->plan.init_envp = sb->init_envp;
}

/* The job reopens its stdio through /proc/self/fd (/dev/stdin, /dev/stdout): the pipes must
 * belong to its host ids, or that open is refused. They are reachable only through the fds.
 * Rootless (id-map.h): with a single id the job is our own host uid already; with subid ranges we
 * cannot chown to its id, so the pipes get mode 0666 — still reachable only by a holder of the
 * fds or whoever may ptrace one, which no other slot's job may. */
static int hand_stdio_to_job(const struct sb_plan *plan, const struct sb_ids *ids) {
    const uid_t uid = ids->host_base + ids->job_uid;
    const gid_t gid = ids->host_base + ids->job_gid;
    const enum sb_id_map_mode mode = sb_id_map_mode();
    const int fds[] = {plan->stdin_r, plan->stdout_w, plan->stderr_w};
    for (size_t i = 0; i < sizeof fds / sizeof *fds && mode != SB_IDMAP_SINGLE; i++)
        if ((mode == SB_IDMAP_ROOT ? fchown(fds[i], uid, gid) : fchmod(fds[i], 0666)) < 0) return -errno;
    return 0;
}

/* The poll loop must never block on the supervisor's own ends (go is written once, at a time the
 * pipe is empty). */
static int make_parent_ends_nonblocking(const struct sb_standby *sb) {
    const int fds[] = {sb->ctl_r, sb->in_w, sb->out_r, sb->err_r};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) return -errno;
    return 0;
}

/* The owner of a user namespace is the euid that creates it, and the kernel charges the per-user
 * counters of everything inside (queued signals, message-queue bytes, locked memory, inotify
 * instances and watches, processes) to that owner in the parent namespace as well. Created as
 * root, every job drew on host root's budget: a job holding 128 inotify instances made
 * inotify_init1 fail for root. So the clone runs with this thread's euid set to the slot's first
 * host id, the one the namespace's root maps to: a job's counters are its slot's own. A raw
 * syscall changes this thread only (glibc's setresuid would switch every thread of Node); ruid and
 * suid stay 0, so switching back restores the euid and the effective capabilities. The thread's
 * SECBIT_NO_SETUID_FIXUP keeps its effective capabilities across the switch, because clone3 with
 * CLONE_INTO_CGROUP checks the caller's write access to the run group's cgroup.procs like a
 * migration does (the bit is this thread's own and restored with the euid). A change of euid also
 * makes the process non-dumpable, hence the PR_SET_DUMPABLE restore; the mutex keeps two threads'
 * switches from interleaving it. Born in its cgroup when cgroup_fd >= 0 and the kernel can (then
 * sb->born_in_cgroup is set), else in ours, to be moved. Returns pid or -errno. */
static pthread_mutex_t owner_switch = PTHREAD_MUTEX_INITIALIZER;

static pid_t clone_child(struct sb_standby *sb, int flags, int cgroup_fd) {
    pid_t pid = -ENOSYS;
    if (cgroup_fd >= 0)
        pid = sb_clone_into_cgroup(sb_container_main, &sb->plan, sb->stack, STACK_SIZE, (unsigned)flags,
                                   cgroup_fd, &sb->pidfd);
    sb->born_in_cgroup = pid >= 0;
    if (pid == -ENOSYS) {
        pid = clone(sb_container_main, sb->stack + STACK_SIZE, flags, &sb->plan, &sb->pidfd);
        if (pid < 0) pid = -errno;
    }
    return pid;
}

static pid_t clone_as_owner(struct sb_standby *sb, int flags, int cgroup_fd) {
    /* Rootless: we are the owner already, and could not switch (docs/CGROUP-V2.md). */
    if (sb_id_map_mode() != SB_IDMAP_ROOT) return clone_child(sb, flags, cgroup_fd);
    pthread_mutex_lock(&owner_switch);
    const int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    const long securebits = syscall(SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, 0);
    pid_t pid;
    if (securebits < 0 ||
        syscall(SYS_prctl, PR_SET_SECUREBITS, securebits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0) {
        pid = -errno;
    } else if (syscall(SYS_setresuid, -1, sb->ids.host_base, -1) < 0) {
        pid = -errno;
        syscall(SYS_prctl, PR_SET_SECUREBITS, securebits, 0, 0, 0);
    } else {
        pid = clone_child(sb, flags, cgroup_fd);
        if (syscall(SYS_setresuid, -1, 0, -1) < 0) abort(); /* cannot happen: ruid is 0 */
        if (syscall(SYS_prctl, PR_SET_SECUREBITS, securebits, 0, 0, 0) < 0) abort(); /* we hold CAP_SETPCAP */
    }
    if (dumpable > 0) prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
    pthread_mutex_unlock(&owner_switch);
    return pid;
}

/* Clones the setup child into new namespaces (see clone_as_owner). Every signal is blocked around
 * the clone, so the child starts with none deliverable until it has reset Node's handlers. Returns
 * pid or -errno. */
static pid_t clone_setup_child(struct sb_standby *sb, int cgroup_fd) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    const int flags = CLONE_VM | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
                      CLONE_NEWUTS | CLONE_PIDFD; /* exit signal 0: no SIGCHLD into Node */
    pid_t pid = clone_as_owner(sb, flags, cgroup_fd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pid;
}

int sb_ids_equal(const struct sb_ids *a, const struct sb_ids *b) {
    return a->host_base == b->host_base && a->count == b->count && a->job_uid == b->job_uid &&
           a->job_gid == b->job_gid;
}

static void init_standby(struct sb_standby *sb, const char *cg_name, const struct sb_ids *ids) {
    memset(sb, 0, sizeof *sb);
    sb->go_w = sb->ctl_r = sb->in_w = sb->out_r = sb->err_r = sb->pidfd = -1;
    sb->stack = MAP_FAILED;
    sb->ids = *ids;
    snprintf(sb->cg_name, sizeof sb->cg_name, "%s", cg_name);
}

int sb_prepare(struct sb_standby *sb, const struct sb_cgroup_host *host, const char *cg_name,
               const struct sb_ids *ids, const struct sb_init_config *init) {
    init_standby(sb, cg_name, ids);
    uint64_t t = sb_now_ns(), t_next;
#define PREP_PHASE(p) (t_next = sb_now_ns(), sb->phase_ns[(p)] = t_next - t, t = t_next)

    char err[512] = "";
    int rc = sb_cgroup_create(host, cg_name, &sb->cg, err, sizeof err);
    sb->cg_created = 1;
    PREP_PHASE(SB_PHASE_CGROUP);
    if (rc < 0) return prepare_fail(sb, -rc, "create cgroup: %s", err);
    int pipes[PIPE_N][2];
    if ((rc = open_pipes(pipes)) < 0) return prepare_fail(sb, -rc, "create pipes");
    hand_out_pipes(sb, pipes);
    sb->plan.seccomp_fd = init->seccomp_fd;
    sb->plan.init_fd = init->init_fd;
    write_init_argv(sb, init);

    const int cgroup_fd = sb_cgroup_clone_fd(host, &sb->cg); /* -1: clone, then migrate */
    const char *failed = NULL, *hint = "";
    if ((rc = hand_stdio_to_job(&sb->plan, ids)) < 0) {
        failed = "hand the stdio pipes to the job's uid";
    } else if ((rc = make_parent_ends_nonblocking(sb)) < 0) {
        failed = "make the supervisor's pipe ends non-blocking";
    } else if ((sb->stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) == MAP_FAILED) {
        rc = -errno;
        failed = "allocate the stack";
    } else if ((rc = clone_setup_child(sb, cgroup_fd)) < 0) {
        failed = "clone the container";
        hint = " (are user namespaces enabled?)";
    }
    const pid_t pid = rc;
    PREP_PHASE(SB_PHASE_CLONE);
    /* The child has its own copies of its ends now (or there is no child). */
    close_pipes(pipes);
    if (cgroup_fd >= 0) close(cgroup_fd);
    if (failed) return prepare_fail(sb, -rc, "%s: %s%s", failed, strerror(-rc), hint);

    if ((rc = sb_write_id_maps(pid, ids, err, sizeof err)) < 0) return prepare_fail(sb, -rc, "%s", err);
    if (!sb->born_in_cgroup && (rc = sb_cgroup_attach(&sb->cg, pid, err, sizeof err)) < 0)
        return prepare_fail(sb, -rc, "%s", err);
    PREP_PHASE(SB_PHASE_ATTACH);
#undef PREP_PHASE
    sb->ready = 1;
    return 0;
}

/* Waits for cellblock-init's READY after the ahead "go" (ctl is non-blocking): the container is
 * then mounted, pivoted and read-only, and its init waits for the job message. Bounded like a
 * run's setup. */
enum { AHEAD_TIMEOUT_MS = 10000 };

int sb_go_ahead(struct sb_standby *sb, const struct sb_op *ops, int n_ops, const char *newroot,
                const char *hostname) {
    if (!sb->ready) return -EINVAL;
    struct sb_plan *plan = &sb->plan;
    plan->ops = ops;
    plan->n_ops = n_ops;
    plan->newroot = newroot;
    plan->hostname = hostname;
    if (write(sb->go_w, "g", 1) != 1)
        return prepare_fail(sb, errno, "release the container ahead: %s", strerror(errno));
    const uint64_t deadline = sb_now_ns() + (uint64_t)AHEAD_TIMEOUT_MS * 1000000;
    for (;;) {
        struct sb_record rec;
        ssize_t r = read(sb->ctl_r, &rec, sizeof rec); /* records are written whole: atomic */
        if (r == (ssize_t)sizeof rec && rec.type == SB_REC_READY) break;
        if (r == (ssize_t)sizeof rec && rec.type == SB_REC_ERROR)
            return prepare_fail(sb, rec.err, "make the container ahead: step %d: %s", rec.step,
                                strerror(rec.err));
        if (r >= 0 || errno != EAGAIN)
            return prepare_fail(sb, EPIPE, "make the container ahead: no READY record");
        const uint64_t now = sb_now_ns();
        if (now >= deadline) return prepare_fail(sb, ETIMEDOUT, "make the container ahead: no READY in 10 s");
        struct pollfd pf[2] = {{sb->ctl_r, POLLIN, 0}, {sb->pidfd, POLLIN, 0}};
        const int n = poll(pf, 2, (int)((deadline - now) / 1000000) + 1);
        if (n > 0 && pf[1].revents && !pf[0].revents)
            return prepare_fail(sb, ECHILD, "make the container ahead: its init ended before READY");
    }
    sb->ahead = 1;
    return 0;
}

void sb_standby_close(struct sb_standby *sb) {
    int *fds[] = {&sb->go_w, &sb->ctl_r, &sb->in_w, &sb->out_r, &sb->err_r, &sb->pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        sb_close_fd(fds[i]);
    if (sb->stack != MAP_FAILED && sb->stack) munmap(sb->stack, STACK_SIZE);
    sb->stack = MAP_FAILED;
}

void sb_discard(struct sb_standby *sb) {
    if (sb->pidfd >= 0) {
        /* Closing "go" without the byte makes a waiting child leave by itself; SIGKILL in case it
         * is anywhere else. */
        sb_close_fd(&sb->go_w);
        syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        syscall(SYS_waitid, P_PIDFD, sb->pidfd, &info, WEXITED | __WALL, NULL);
    }
    sb_standby_close(sb);
    if (sb->cg_created) sb_cgroup_destroy(&sb->cg);
    sb->cg_created = 0;
    sb->ready = 0;
}
