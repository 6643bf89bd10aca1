/*
 * The payload: cellblock-init's forked child, made ahead of its job. init-main.c forks it before
 * READY, and it takes every step that does not depend on the job: its own session, the run's stdio
 * (the pipes exist from the standby's making), capabilities dropped, the slot's ids (fixed per
 * standby, in the init's argv), no_new_privs and both seccomp filters, the allowlist's listener
 * handed to the init. Then it parks: the READY record on the control pipe (the supervisor's sign
 * that the container and its payload are ready: limits, accounting baseline, job message), and a
 * blocking read of the park pipe. At the job's go the init has put the parsed job message in
 * memory both share and writes one byte; the payload sets the job's rlimits and working
 * directory, clears its signal mask and execs the program. The made-at-go path is the same code,
 * with the job arriving at once.
 *
 * Everything after the filters runs under them, so each call must be on the allowlist with the
 * arguments used here (seccomp-policy.c): write, read, exit_group, prlimit64, chdir,
 * rt_sigprocmask, execve (and close, sendmsg's after-call). None of the job's data reaches a step
 * before the filters: the job message arrives only after the park, so it cannot make the payload
 * skip or reorder any of them. Freestanding, like the init: raw syscalls only.
 */
#include "init-payload.h"
#include "clear-groups.h"
#include "syscalls.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/resource.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

static __attribute__((noreturn)) void payload_fail(int fd, int step, long err) {
    struct payload_error e = {step, (int32_t)-err};
    SB_SYS3(SYS_write, fd, &e, sizeof e);
    sb_exit(127);
}

#define CHECK(step, expr)                                                                                    \
    do {                                                                                                     \
        long r_ = (expr);                                                                                    \
        if (r_ < 0) payload_fail(err_fd, (step), r_);                                                        \
    } while (0)

static long move_fd(int from, int to) {
    if (from == to) return SB_SYS3(SYS_fcntl, to, F_SETFD, 0);
    return SB_SYS3(SYS_dup3, from, to, 0);
}

static long set_rlimits(const struct sb_job *job) {
    for (uint32_t i = 0; i < job->n_rlimits; i++) {
        struct rlimit lim = {(rlim_t)job->rlimits[i].soft, (rlim_t)job->rlimits[i].hard};
        long r = SB_SYS4(SYS_prlimit64, 0, job->rlimits[i].resource, &lim, 0);
        if (r < 0) return r;
    }
    return 0;
}

static long drop_capabilities(int cap_last) {
    long r = SB_SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int cap = 0; r >= 0 && cap <= cap_last; cap++)
        r = SB_SYS5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    return r;
}

static long clear_capability_sets(void) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    return SB_SYS2(SYS_capset, &hdr, data);
}

void sb_fd_message(struct msghdr *msg, struct iovec *iov, char *byte, union fd_control *control) {
    memset(control, 0, sizeof *control);
    memset(msg, 0, sizeof *msg);
    iov->iov_base = byte;
    iov->iov_len = 1;
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = control->buf;
    msg->msg_controllen = sizeof control->buf;
}

/* Hands the allowlist's listener to the init over its socket (SCM_RIGHTS). The listener is
 * close-on-exec, so the job's program never holds it: a program that could answer its own
 * notifications could let refused calls through. */
static long send_listener(int sock, int listener) {
    union fd_control control;
    struct iovec iov;
    struct msghdr msg;
    char byte = 'L';
    sb_fd_message(&msg, &iov, &byte, &control);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    long r = SB_SYS3(SYS_sendmsg, sock, &msg, 0);
    SB_SYS1(SYS_close, listener);
    return r < 0 ? r : 0;
}

static long install_filters(int fd, int refine_len, int main_len, int listener_sock) {
    struct sock_filter insns[4096];
    if (refine_len + main_len > 4096 || refine_len <= 0 || main_len <= 0) return -22;
    long want = (long)(refine_len + main_len) * (long)sizeof(struct sock_filter);
    if (SB_SYS4(SYS_pread64, fd, insns, want, 0) != want) return -5; /* EIO */
    /* The refinement filter (default allow) first: the allowlist does not allow seccomp(). The
     * kernel applies the stricter verdict of the two to every call. */
    struct sock_fprog refine = {(unsigned short)refine_len, insns};
    struct sock_fprog allow = {(unsigned short)main_len, insns + refine_len};
    long r = SB_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &refine);
    /* The allowlist's default is a user notification: the init hears which call it was, tells
     * the supervisor and kills the job (see watch_payload). */
    if (r >= 0) r = SB_SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &allow);
    return r < 0 ? r : send_listener(listener_sock, (int)r);
}

/* Parks: tells the supervisor every ahead step is done (the READY record, written here and not by
 * the init: one hand-off fewer on a container made at its go), then waits for the init's go byte.
 * Returns at go, or leaves (EOF: the init is ending, and with it the namespace; nothing to say). */
static void park(int ctl, int park_fd) {
    struct sb_record ready = {SB_REC_READY, 0, 0, 0, 0, 0};
    if (SB_SYS3(SYS_write, ctl, &ready, sizeof ready) != (long)sizeof ready) sb_exit(126);
    char go = 0;
    long n;
    do
        n = SB_SYS3(SYS_read, park_fd, &go, 1);
    while (n == -4);
    if (n != 1 || go != 'g') sb_exit(126);
    SB_SYS1(SYS_close, park_fd);
}

void sb_payload(char **argv, const struct payload_fds *fds, const struct sb_shared_job *shared) {
    const int err_fd = fds->err;
    /* Ahead of the job: nothing below until the park reads anything of it. */
    CHECK(SB_STEP_SETSID, SB_SYS0(SYS_setsid));
    /* The control pipe (READY goes on it) off 0..2 too, before stdio takes them. */
    long ctl = fds->ctl;
    if (ctl < 3) CHECK(SB_STEP_STDIO, ctl = SB_SYS3(SYS_fcntl, ctl, F_DUPFD_CLOEXEC, 3));
    /* Lift the pipes above 2 first: any of them may itself be numbered 0..2 (when the worker runs
     * with closed stdio), and moving one onto 0 must not clobber another. */
    int stdio[3];
    for (int i = 0; i < 3; i++) {
        long fd = SB_SYS3(SYS_fcntl, sb_arg_int(argv, SB_ARG_STDIN_FD + i), F_DUPFD_CLOEXEC, 3);
        CHECK(SB_STEP_STDIO, fd);
        stdio[i] = (int)fd;
    }
    for (int i = 0; i < 3; i++)
        CHECK(SB_STEP_STDIO, move_fd(stdio[i], i));
    /* Everything else closes at exec: the error pipe, the park pipe, the init's descriptors. */
    CHECK(SB_STEP_STDIO, SB_SYS3(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC));
    CHECK(SB_STEP_CAPS, drop_capabilities(sb_arg_int(argv, SB_ARG_CAP_LAST)));
    const uint32_t uid = sb_arg_u32(argv, SB_ARG_JOB_UID), gid = sb_arg_u32(argv, SB_ARG_JOB_GID);
    CHECK(SB_STEP_IDS_JOB, sb_clear_groups());
    CHECK(SB_STEP_IDS_JOB, SB_SYS3(SYS_setresgid, gid, gid, gid));
    CHECK(SB_STEP_IDS_JOB, SB_SYS3(SYS_setresuid, uid, uid, uid));
    CHECK(SB_STEP_CAPS, clear_capability_sets());
    CHECK(SB_STEP_NO_NEW_PRIVS, SB_SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    CHECK(SB_STEP_SECCOMP,
          install_filters(sb_arg_int(argv, SB_ARG_SECCOMP_FD), sb_arg_int(argv, SB_ARG_SECCOMP_REFINE_LEN),
                          sb_arg_int(argv, SB_ARG_SECCOMP_MAIN_LEN), fds->listener_sock));
    SB_SYS1(SYS_close, fds->listener_sock);
    park((int)ctl, fds->park);

    /* At the job's go, under both filters. Rlimits: without CAP_SYS_RESOURCE in the host's user
     * namespace (which no container's root has, before the filters or after) a hard limit can
     * only be lowered, so setting them here is what setting them before the ids was; soft =
     * hard as the policy sends them. */
    const struct sb_job *job = &shared->job;
    CHECK(SB_STEP_RLIMITS, set_rlimits(job));
    CHECK(SB_STEP_CWD, SB_SYS1(SYS_chdir, job->cwd));
    /* Last: only execve, write and exit_group follow, all allowed by both filters. The mask held
     * SIGCHLD blocked since the init's fork. */
    uint64_t empty_mask = 0;
    SB_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, 0, sizeof empty_mask);
    payload_fail(err_fd, SB_STEP_EXEC, SB_SYS3(SYS_execve, job->argv[0], job->argv, job->envp));
}
