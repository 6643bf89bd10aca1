/*
 * cellblock-init: PID 1 of every container. A freestanding static program (no libc: raw syscalls
 * only, a few pages of memory), exec'd from a sealed memfd by the container's setup once the
 * filesystem is in place. It runs as uid 0 of the container's user namespace.
 *
 * First it forks the payload (init-payload.c), which drops every privilege that does not depend on
 * the job (session, stdio, capabilities, the slot's ids, no_new_privs), installs the two seccomp
 * filters, hands us the listener and parks, writing the READY record itself as it does: READY
 * goes out only once the payload is parked, so the supervisor's accounting baseline, taken at
 * READY, leaves that set-up out, and a container made ahead holds a payload ready for its job. At the job's
 * go the payload sets the job's rlimits and cwd and execs the program. A payload that fails before its park
 * is an ERROR record and no READY: a setup error, never the program's failure. The init stays as the reaper:
 * it tells the supervisor when the payload's exec happened (EXEC record) and how the payload ended (EXIT
 * record with its wait status), waits until the supervisor has read the job's accounting and closes go, then
 * exits, at which point the kernel kills whatever else is left in the PID namespace. Being a real init,
 * signals the program sends itself (abort(), raise()) behave as outside a container, which they would not if
 * the program were PID 1 itself.
 *
 * It also holds the allowlist's seccomp listener (sent by the payload before its exec): a call off
 * the allowlist is held by the kernel and reported to us; we name it to the supervisor
 * (BLOCKED_SYSCALL record) and kill the whole job, so the call never runs.
 *
 * argv: see enum sb_init_arg in sandbox.h (nothing job-specific but the slot's ids); the job (cwd,
 * rlimits, the program's argv and environment; its ids again, which must be argv's) arrives after
 * READY as the job message (job-message.h).
 */
#include "init-locks.h"
#include "init-payload.h"
#include "job-message.h"
#include "sandbox.h"
#include "syscalls.h"

#include <asm/ioctls.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

/* The compiler may emit calls to these for struct initialisation. */
void *memset(void *d, int c, size_t n) {
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *a = d;
    const unsigned char *b = s;
    while (n--)
        *a++ = *b++;
    return d;
}

static int64_t now_ns(void) {
    struct timespec ts = {0, 0};
    SB_SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void send_record(int ctl, int type, int step, long err, int wait_status, long maxrss, int64_t at_ns) {
    struct sb_record rec = {type, step, (int32_t)-err, wait_status, maxrss, at_ns};
    SB_SYS3(SYS_write, ctl, &rec, sizeof rec);
}

/* Reads exactly len bytes from go; returns how many arrived before EOF, or -errno. */
static long read_full(int go, unsigned char *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        long n = SB_SYS3(SYS_read, go, buf + got, len - got);
        if (n == -4) continue;
        if (n < 0) return n;
        if (n == 0) break;
        got += (size_t)n;
    }
    return (long)got;
}

/* The job message and the pointers into it, shared with the payload (MAP_SHARED before the fork:
 * the same address in both). Only the pages a message needs are touched. Returns it, or 0. */
static struct sb_shared_job *map_shared_job(void) {
    long at = SB_SYS6(SYS_mmap, 0, sizeof(struct sb_shared_job), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return at < 0 && at > -4096 ? 0 : (struct sb_shared_job *)at;
}

/* Waits for the job message on go (job-message.h), after the payload's READY. Now that no task of
 * the job shares the worker's memory, the supervisor may arm the memory limit: until here an OOM
 * kill in the job's cgroup could have picked the setup task, and with it every process sharing its
 * mm, the worker included. A made-ahead container waits here, before its job exists, its payload
 * parked. The payload's error pipe is watched meanwhile: a payload that fails a step before its
 * park (or is gone) ends the wait. Returns 0; 1 when the supervisor gave up (EOF before any byte:
 * leave quietly); 2 when the payload failed (*e says how); or -errno for a short or malformed
 * message or one naming other ids than the slot's the payload took (fails closed: the payload is
 * never released). go stays open: after the start, a live run's supervisor sends signals for the
 * payload on it (watch_payload()). */
static long wait_for_job(int go, int err_r, struct payload_error *e, struct sb_shared_job *s, uint32_t uid,
                         uint32_t gid) {
    for (;;) {
        struct pollfd pf[2] = {{go, POLLIN, 0}, {err_r, POLLIN, 0}};
        long n = SB_SYS5(SYS_ppoll, pf, 2, 0, 0, 0);
        if (n == -4) continue;
        if (n < 0) return n;
        if (pf[1].revents) {
            *e = (struct payload_error){SB_STEP_SPAWN_PAYLOAD, 10 /* ECHILD: gone without a word */};
            struct payload_error got;
            if (SB_SYS3(SYS_read, err_r, &got, sizeof got) == (long)sizeof got) *e = got;
            return 2;
        }
        if (pf[0].revents) break;
    }
    unsigned char header[SB_JOB_HEADER];
    long n = read_full(go, header, sizeof header);
    if (n == 0) return 1;
    if (n < 0) return n;
    if (n != (long)sizeof header) return -22; /* EINVAL */
    long len = sb_job_body_length(header);
    if (len < 0) return len;
    if ((n = read_full(go, s->body, (size_t)len)) != len) return n < 0 ? n : -22;
    long r = sb_job_parse((char *)s->body, (size_t)len, &s->job, s->ptrs, sizeof s->ptrs / sizeof *s->ptrs);
    if (r == 0 && (s->job.uid != uid || s->job.gid != gid)) r = -22;
    return r;
}

/* A CLOEXEC pipe kept off 0..2, which the payload overwrites with its stdio: the payload's error
 * pipe (EOF after its park means its exec happened) and its park pipe. Returns 0 or -errno. */
static long open_pipe(int p[2]) {
    long r = SB_SYS2(SYS_pipe2, p, O_CLOEXEC);
    for (int i = 0; r >= 0 && i < 2; i++)
        if (p[i] < 3) {
            long fd = SB_SYS3(SYS_fcntl, p[i], F_DUPFD_CLOEXEC, 3);
            SB_SYS1(SYS_close, p[i]);
            if (fd < 0) r = fd;
            p[i] = (int)fd;
        }
    return r < 0 ? r : 0;
}

/* Lifts a descriptor above 2 (the payload moves its stdio onto 0..2). Returns it or -errno. */
static long above_stdio(long fd) {
    if (fd < 0 || fd > 2) return fd;
    long moved = SB_SYS3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);
    SB_SYS1(SYS_close, fd);
    return moved;
}

/* The socket the payload sends the filter's listener over, and a signalfd for SIGCHLD (blocked
 * here; the payload unblocks everything before its exec). Returns 0 or -errno. */
static long open_watch_fds(int sock[2], int *sigchld_fd) {
    long r = SB_SYS4(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock);
    for (int i = 0; r >= 0 && i < 2; i++)
        r = sock[i] = (int)above_stdio(sock[i]);
    uint64_t mask = 1ULL << (SIGCHLD - 1);
    if (r >= 0) r = SB_SYS4(SYS_rt_sigprocmask, SIG_BLOCK, &mask, 0, sizeof mask);
    if (r >= 0)
        r = *sigchld_fd =
            (int)above_stdio(SB_SYS4(SYS_signalfd4, -1, &mask, sizeof mask, SFD_CLOEXEC | SFD_NONBLOCK));
    return r < 0 ? r : 0;
}

/* The listener the payload sent before its exec, or -1 when it failed before sending it. */
static int receive_listener(int sock) {
    union fd_control control;
    struct iovec iov;
    struct msghdr msg;
    char byte = 0;
    sb_fd_message(&msg, &iov, &byte, &control);
    long r = SB_SYS3(SYS_recvmsg, sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    SB_SYS1(SYS_close, sock);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (r != 1 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static long read_payload_record(int err_r, struct payload_error *e) {
    long n;
    do
        n = SB_SYS3(SYS_read, err_r, e, sizeof *e);
    while (n == -4);
    return n;
}

/* Waits for the payload's exec (EOF on the error pipe) or its failure, and tells the supervisor.
 * EOF with the go byte still unread in the park pipe means it died parked, never released: a
 * set-up failure, not an exec (it cannot happen short of a kill from outside the job). Either way
 * the payload is reaped next (watch_payload), as after a failed exec. */
static void report_exec(int ctl, int err_r, int park_w, int64_t started) {
    struct payload_error e;
    long n = read_payload_record(err_r, &e);
    SB_SYS1(SYS_close, err_r);
    int unread = 0;
    if (n != (long)sizeof e && SB_SYS3(SYS_ioctl, park_w, FIONREAD, &unread) == 0 && unread > 0)
        e = (struct payload_error){SB_STEP_SPAWN_PAYLOAD, 10 /* ECHILD */}, n = sizeof e;
    if (n == (long)sizeof e)
        send_record(ctl, SB_REC_ERROR, e.step, -(long)e.err, 0, 0, 0);
    else
        send_record(ctl, SB_REC_EXEC, 0, 0, 0, 0, started);
}

/* Relays the supervisor's signal bytes on go to the payload's process group (the payload is a
 * session and group leader: setsid). Sent from here, inside the namespace, because only we reap
 * the payload and we stop right after: its pid cannot have been reused by then. Returns the go
 * descriptor, or -1 once the supervisor has closed its end. */
static int relay_signals(int go, long payload) {
    unsigned char sig[16];
    long n = SB_SYS3(SYS_read, go, sig, sizeof sig);
    if (n == -4 || n == -11) return go;
    if (n <= 0) {
        SB_SYS1(SYS_close, go);
        return -1;
    }
    for (long i = 0; i < n; i++)
        if (sig[i] >= 1 && sig[i] <= 64) SB_SYS2(SYS_kill, -payload, sig[i]);
    return go;
}

/* Reaps every child that has ended (orphans reparent to us); returns 1 once the payload was among
 * them, after killing what is left and telling the supervisor how it ended. */
static int reap_ended(int ctl, long payload) {
    for (;;) {
        int status = 0;
        struct rusage ru;
        long r = SB_SYS4(SYS_wait4, -1, &status, __WALL | WNOHANG, &ru);
        if (r == -4) continue;
        if (r == 0) return 0;
        if (r < 0) return -1; /* ECHILD without having seen the payload: cannot happen */
        if (r == payload) {
            /* The job is over: whatever it left running gets SIGKILL now (every process of the
             * namespace but us; a fork racing this dies too), so nothing of it runs on once the
             * supervisor reports, although the namespace's end comes after the report. */
            const int64_t at = now_ns();
            SB_SYS2(SYS_kill, -1, SIGKILL);
            send_record(ctl, SB_REC_EXIT, 0, 0, status, ru.ru_maxrss, at);
            return 1;
        }
    }
}

/* A call the allowlist does not know: the kernel holds the calling thread and tells us which call
 * it was. We pass that on (a record on the control pipe, which the job cannot reach) and kill
 * every process of the job; the held call never runs. The listener stays open so that other
 * threads' calls stay held until they die. */
static void refuse_call(int ctl, const struct seccomp_notif *n) {
    send_record(ctl, SB_REC_BLOCKED_SYSCALL, n->data.nr, 0, (int)n->data.arch, 0, now_ns());
    SB_SYS2(SYS_kill, -1, SIGKILL);
}

/* Until the payload ends: reap on SIGCHLD; answer lock calls (init-locks.c) and sysinfo
 * (init-sysinfo.c) and refuse every other call the listener reports; relay the supervisor's
 * signal requests on go to the payload.
 * While a blocking lock request waits, wake every 5 ms to retry. */
static int watch_payload(int ctl, int *go_fd, long payload, int listener, int sigchld_fd) {
    int go = *go_fd;
    int pending = 0;
    for (;;) {
        /* poll ignores negative descriptors: a closed go or a dropped listener takes no part. */
        struct pollfd pf[3] = {{sigchld_fd, POLLIN, 0}, {listener, POLLIN, 0}, {go, POLLIN, 0}};
        struct timespec retry = {0, 5000000};
        long n = SB_SYS5(SYS_ppoll, pf, 3, pending ? &retry : 0, 0, 0);
        if (n < 0 && n != -4) return 123;
        if (pf[1].revents & POLLIN) {
            struct seccomp_notif note;
            memset(&note, 0, sizeof note);
            if (SB_SYS3(SYS_ioctl, listener, SECCOMP_IOCTL_NOTIF_RECV, &note) == 0) {
                if (sb_locks_handles(&note)) {
                    sb_locks_handle(listener, &note);
                } else if (sb_sysinfo_handles(&note)) {
                    sb_sysinfo_handle(listener, &note);
                } else {
                    refuse_call(ctl, &note);
                    listener = -1; /* everything is dying: stop listening, keep the descriptor */
                }
            }
        }
        /* Every task using the filter is gone: the listener polls HUP from now on. */
        if (pf[1].revents & (POLLHUP | POLLERR)) listener = -1;
        if (listener >= 0) pending = sb_locks_retry(listener);
        if (go >= 0 && pf[2].revents) go = relay_signals(go, payload);
        if (pf[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (SB_SYS3(SYS_read, sigchld_fd, &si, sizeof si) > 0) {
            }
            int ended = reap_ended(ctl, payload);
            *go_fd = go;
            if (ended) return ended > 0 ? 0 : 123;
        }
    }
}

/* After the EXIT record: stay, and with us the namespace, until the supervisor has read the job's
 * accounting and closes go (EOF; late signal bytes are dropped). Our exit tears the container
 * down (every process of the namespace killed, its mounts released), and that work is charged to
 * the job's cgroup: held here, it happens after the reading and is not billed to the program. */
static void hold_until_released(int go) {
    if (go < 0) return;
    char buf[16];
    long n;
    do
        n = SB_SYS3(SYS_read, go, buf, sizeof buf);
    while (n > 0 || n == -4);
}

static int init_main(int argc, char **argv) {
    if (argc != SB_ARG_N) return 120;
    const int ctl = sb_arg_int(argv, SB_ARG_CTL_FD);
    SB_SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    SB_SYS5(SYS_prctl, PR_SET_NAME, "cellblock-init", 0, 0, 0);
    const int go = sb_arg_int(argv, SB_ARG_GO_FD);

    struct sb_shared_job *shared = map_shared_job();
    int errp[2], sock[2], park[2], sigchld_fd = -1;
    long r = shared ? open_pipe(errp) : -12 /* ENOMEM */;
    if (r >= 0) r = open_pipe(park);
    if (r >= 0) r = open_watch_fds(sock, &sigchld_fd);
    if (r < 0) {
        send_record(ctl, SB_REC_ERROR, SB_STEP_SPAWN_PAYLOAD, r, 0, 0, 0);
        return 121;
    }
    /* A plain fork: this process is a few pages, so copying it is cheap. The payload takes its
     * steps up to the filters now, before READY (with or without a job waiting for it). */
    long pid = SB_SYS5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        SB_SYS1(SYS_close, errp[0]);
        SB_SYS1(SYS_close, sock[0]);
        SB_SYS1(SYS_close, park[1]);
        const struct payload_fds fds = {errp[1], sock[1], park[0], ctl};
        sb_payload(argv, &fds, shared);
    }
    if (pid < 0) {
        send_record(ctl, SB_REC_ERROR, SB_STEP_SPAWN_PAYLOAD, pid, 0, 0, 0);
        return 122;
    }
    SB_SYS1(SYS_close, errp[1]);
    SB_SYS1(SYS_close, sock[1]);
    SB_SYS1(SYS_close, park[0]);
    for (int i = SB_ARG_STDIN_FD; i <= SB_ARG_STDERR_FD; i++)
        SB_SYS1(SYS_close, sb_arg_int(argv, i));
    /* The payload says READY itself once parked; meanwhile this waits for the job, or its failure:
     * a step failing before the park is an ERROR record and no READY, the set-up's failure, never
     * the program's (the init leaves and the namespace's end takes the payload). */
    struct payload_error e = {SB_STEP_SPAWN_PAYLOAD, 10 /* ECHILD */};
    const long got = wait_for_job(go, errp[0], &e, shared, sb_arg_u32(argv, SB_ARG_JOB_UID),
                                  sb_arg_u32(argv, SB_ARG_JOB_GID));
    if (got == 1) return 126;
    if (got == 2) {
        send_record(ctl, SB_REC_ERROR, e.step, -(long)e.err, 0, 0, 0);
        return 121;
    }
    if (got < 0) {
        send_record(ctl, SB_REC_ERROR, SB_STEP_JOB_MESSAGE, got, 0, 0, 0);
        return 121;
    }
    /* Sent before READY, so here once the job is (only READY lets the supervisor send it). Without
     * it no call off the allowlist could be named or refused: a set-up failure too. */
    const int listener = receive_listener(sock[0]);
    if (listener < 0) {
        send_record(ctl, SB_REC_ERROR, SB_STEP_SECCOMP, -71 /* EPROTO */, 0, 0, 0);
        return 121;
    }
    /* The wall clock starts here, a little before the exec, so a program's wall time is never
     * under-reported. The go byte releases the payload (a payload gone meanwhile: EPIPE, and no
     * SIGPIPE for a namespace's init without a handler). */
    const int64_t started = now_ns();
    if ((r = SB_SYS3(SYS_write, park[1], "g", 1)) != 1) {
        send_record(ctl, SB_REC_ERROR, SB_STEP_SPAWN_PAYLOAD, r < 0 ? r : -5 /* EIO */, 0, 0, 0);
        return 122;
    }
    /* While the payload sets its rlimits and cwd and execs: the lock broker's mounts. */
    sb_locks_init(shared->job.cwd);
    report_exec(ctl, errp[0], park[1], started);
    SB_SYS1(SYS_close, park[1]);
    int go_fd = go;
    const int rc = watch_payload(ctl, &go_fd, pid, listener, sigchld_fd);
    if (rc == 0) hold_until_released(go_fd);
    return rc;
}

__attribute__((used)) void sb_start_c(long *sp) {
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    sb_exit(init_main(argc, argv));
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall "
        "sb_start_c\n\thlt\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n.global _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tmov x0, sp\n\tand x1, x0, #-16\n\tmov "
    "sp, x1\n\tbl sb_start_c\n\tbrk #0\n");
#endif
