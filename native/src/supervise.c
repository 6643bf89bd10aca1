/*
 * Theory of operation: one run = one container = one cgroup, supervised by one thread.
 *
 * Each worker slot has a long-lived native thread (slot-runner.cc; never the libuv pool) that
 * runs the slot's containers one after another. A container starts as a standby (standby.c), made
 * right before its run or, with prewarm, while the slot waits for its next job: the run's cgroup
 * without limits, five pipes (go, control, stdin, stdout, stderr), and the setup task, cloned with
 * every signal blocked, CLONE_VM and new user, PID, mount, network, IPC and UTS namespaces.
 * CLONE_VM makes the clone cost independent of Node's heap size (a fork-style copy of a 256 MiB
 * process costs ~3x more here); the price is that the child shares our memory until it execs,
 * which container-setup.c handles with raw syscalls only. The parent writes the id maps (the
 * slot's host id range, sb_ids) and attaches the child to the cgroup; the child waits for "go".
 *
 * A run (sb_execute) hands the standby its mount plan and writes the first "go" byte. The child
 * builds the root filesystem, pivots, and execs cellblock-init (init-main.c) from a sealed memfd
 * as PID 1, which forks the payload (it drops every privilege that does not depend on the job,
 * installs the seccomp filters and parks, writing the READY record itself as it does) and waits
 * for the job message (job-message.h). A standby made ahead (sb_go_ahead(), for a predicted
 * plan: slot-runner.h) has done all of this before its run, and its READY was read then. Only
 * after READY, with no task of the job sharing Node's memory, are the job's cgroup limits armed
 * and its accounting baseline taken (the payload's set-up is left out): an OOM kill before that
 * could pick the setup task, and with it every task sharing its mm, the worker included. The job
 * message releases the payload, which sets the job's rlimits and cwd and execs the program.
 * Records on the control pipe mark the exec (the wall clock starts) and the payload's exit (wait
 * status); failures arrive as {step, errno}.
 *
 * The poll loop feeds stdin, reads stdout/stderr up to the cap (handing each piece kept to the
 * run's on_output callback as it arrives, for live runs), polls the cgroup's CPU counter,
 * watches the wall deadline (and the setup's own time limit) and the cancel eventfd, and waits
 * for PID 1's pidfd. Any limit kills PID 1 with SIGKILL, which makes the kernel kill every process
 * of the PID namespace; then the output left in the pipes is collected, the cgroup's accounting
 * read, the verdict made (classify-run.c) and the cgroup emptied (backstop) and removed.
 *
 * A live run also has a stdin source and a signal pipe from the addon. Stdin is relayed through
 * one fixed buffer: the source is read only when the buffer is empty, and the buffer is written
 * only when the job's stdin pipe has room, so a client flooding stdin fills two pipes and then
 * meets backpressure; nothing here grows. Signal bytes go on to cellblock-init over the go pipe
 * (kept open for live runs), which signals the payload's process group from inside.
 */
#define _GNU_SOURCE
#include "run-parts.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

enum { SETUP_TIMEOUT_MS = 10000 };

static void __attribute__((format(printf, 3, 4)))
parent_fail(struct sb_run *run, int err, const char *fmt, ...) {
    if (run->status == SB_SETUP_ERROR) return; /* keep the first failure */
    run->status = SB_SETUP_ERROR;
    run->setup_step = -1;
    run->setup_errno = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->setup_msg, sizeof run->setup_msg, fmt, ap);
    va_end(ap);
}

void sb_kill_container(struct watch *w, enum sb_stop why) {
    if (w->run->stop == SB_STOP_NONE) w->run->stop = why;
    /* Fails only once PID 1 is gone, and then so is everything it would have killed. */
    syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
}

/* Reads every record waiting on the control pipe (EXEC and EXIT often arrive together); returns
 * whether a READY record was among them. */
static int read_records(struct watch *w) {
    struct sb_run *run = w->run;
    int ready = 0;
    for (;;) {
        struct sb_record rec;
        ssize_t r = read(w->ctl_r, &rec, sizeof rec); /* records are written whole: atomic */
        if (r == (ssize_t)sizeof rec && rec.type == SB_REC_ERROR) {
            if (run->status != SB_SETUP_ERROR) {
                run->status = SB_SETUP_ERROR;
                run->setup_step = rec.step;
                run->setup_errno = rec.err;
            }
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_EXEC) {
            /* The init's clock reading (same CLOCK_MONOTONIC): not delayed by our wake-up. */
            w->exec_at = rec.at_ns > 0 ? (uint64_t)rec.at_ns : sb_now_ns();
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_EXIT) {
            w->exit_at = rec.at_ns > 0 ? (uint64_t)rec.at_ns : sb_now_ns();
            run->payload_reaped = 1;
            run->payload_wait_status = rec.wait_status;
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_BLOCKED_SYSCALL) {
            if (!run->blocked_syscall_seen) { /* the first one is what ended the job */
                run->blocked_syscall_seen = 1;
                run->blocked_syscall_nr = rec.step;
                run->blocked_syscall_arch = (uint32_t)rec.wait_status;
            }
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_READY) {
            ready = 1;
        } else {
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) sb_close_fd(&w->ctl_r);
            return ready;
        }
    }
}

/* Writes the whole job message on go (still blocking: the init reads it as it arrives). */
static int send_job(struct watch *w) {
    const char *msg = w->run->job_msg;
    size_t left = w->run->job_len;
    while (left > 0) {
        ssize_t n = write(w->go_w, msg, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        msg += n;
        left -= (size_t)n;
    }
    return 0;
}

/* On READY: PID 1 has its own address space, so arm the job's limits, start the job's accounting
 * (set-up excluded: sb_cgroup_start_accounting()), then send it the job. */
static void arm_limits_and_start(struct watch *w) {
    sb_evidence_open(w->run, w->pidfd); /* before the job exists: fsize-evidence.c */
    char err[512];
    int rc = sb_cgroup_set_limits(w->cg, &w->run->cg_limits, err, sizeof err);
    if (rc == -EBUSY) {
        /* A memory limit below what the container already uses (v1 refuses it, v2 OOM-kills at
         * once; cgroup-v2.c reports both as EBUSY): the job's limit is too small to start
         * anything in. */
        sb_kill_container(w, SB_STOP_MEMORY);
    } else if (rc < 0) {
        parent_fail(w->run, -rc, "%s", err);
        sb_kill_container(w, SB_STOP_NONE);
    } else if ((rc = sb_cgroup_start_accounting(w->cg)) < 0) {
        parent_fail(w->run, -rc, "start the job's accounting in cgroup %s: %s", w->cg->dir[0], strerror(-rc));
        sb_kill_container(w, SB_STOP_NONE);
    } else if (send_job(w) < 0) {
        parent_fail(w->run, errno, "send the job to cellblock-init: %s", strerror(errno));
        sb_kill_container(w, SB_STOP_NONE);
    } else if (fcntl(w->go_w, F_SETFL, O_NONBLOCK) == 0) {
        /* Kept: a live run's signals travel on it (a full pipe drops a signal rather than block
         * this thread), and closing it is what lets the init exit after the payload's end. */
        return;
    }
    sb_close_fd(&w->go_w);
}

/* On the EXIT record: the payload is reaped and PID 1 holds the namespace until go closes
 * (init-main.c, hold_until_released()), so the group's counters are read now, before the
 * container's teardown adds its own CPU time; then the init may go. */
static void take_final_accounting(struct watch *w) {
    sb_cgroup_read_stats(w->cg, &w->run->stats);
    w->stats_taken = 1;
    sb_close_fd(&w->go_w);
}

static void take_cancel(struct watch *w) {
    sb_kill_container(w, SB_STOP_CANCEL);
    uint64_t v;
    if (read(w->run->cancel_fd, &v, sizeof v) < 0) { /* already drained */
    }
    w->run->cancel_fd = -1; /* the owner (the addon) closes it */
}

/* The poll set: what is worth waiting for now. */
enum { W_CTL, W_IN, W_OUT, W_ERR, W_PID, W_CANCEL, W_SRC, W_SIG, W_N };

/* Fills pf; at[i] is the index in pf of W_*, or -1 when that one is not polled. Returns the count. */
static int poll_set(const struct watch *w, struct pollfd pf[W_N], int at[W_N]) {
    const int running = w->exec_at != 0;
    const int fds[W_N] = {w->ctl_r,
                          running && sb_stdin_pending(w) ? w->in_w : -1,
                          w->out_r,
                          w->err_r,
                          w->pidfd,
                          w->run->cancel_fd,
                          running && w->in_w >= 0 && !sb_stdin_pending(w) ? w->src_r : -1,
                          running ? w->sig_r : -1};
    const short events[W_N] = {POLLIN, POLLOUT, POLLIN, POLLIN, POLLIN, POLLIN, POLLIN, POLLIN};
    int n = 0;
    for (int i = 0; i < W_N; i++) {
        at[i] = -1;
        if (fds[i] >= 0) pf[at[i] = n++] = (struct pollfd){fds[i], events[i], 0};
    }
    return n;
}

/* Kills the run at its CPU or wall limit. Until the payload has started only the setup's own
 * time limit applies, and running out of it is a setup failure. */
static void enforce_limits(struct watch *w, uint64_t now) {
    struct sb_run *run = w->run;
    if (!w->exec_at) {
        if (now - w->started >= (uint64_t)SETUP_TIMEOUT_MS * 1000000 && run->status != SB_SETUP_ERROR) {
            parent_fail(run, ETIMEDOUT, "container setup did not finish within %s", "10 s");
            sb_kill_container(w, SB_STOP_NONE);
        }
        return;
    }
    /* A failed read keeps the last figure; the wall limit and RLIMIT_CPU still bound the run. */
    (void)sb_cgroup_cpu_ns(w->cg, &w->cpu_ns);
    if (w->cpu_ns >= run->cpu_limit_ns) sb_kill_container(w, SB_STOP_CPU);
    if (now - w->exec_at >= run->wall_limit_ns) sb_kill_container(w, SB_STOP_WALL);
}

/* How long poll may sleep before the limits need another look. */
static int64_t poll_timeout_ms(const struct watch *w, uint64_t now) {
    const struct sb_run *run = w->run;
    int64_t timeout_ms;
    if (!w->exec_at) {
        timeout_ms = (int64_t)SETUP_TIMEOUT_MS - (int64_t)((now - w->started) / 1000000);
    } else {
        /* CPU grows at most ncpus x wall: sleep until the earliest moment it could pass the
         * limit, bounded to keep the overshoot small. */
        uint64_t cpu_left = run->cpu_limit_ns > w->cpu_ns ? run->cpu_limit_ns - w->cpu_ns : 0;
        int64_t cpu_ms = (int64_t)(cpu_left / 1000000 / (uint64_t)(run->ncpus > 0 ? run->ncpus : 1));
        int64_t wall_ms = (int64_t)((run->wall_limit_ns - (now - w->exec_at)) / 1000000) + 1;
        timeout_ms = cpu_ms < 5 ? 5 : (cpu_ms > 50 ? 50 : cpu_ms);
        if (wall_ms < timeout_ms) timeout_ms = wall_ms;
        if (run->stop != SB_STOP_NONE) timeout_ms = 50;
    }
    return timeout_ms < 0 ? 0 : timeout_ms;
}

/* Acts on what poll reported; returns 1 once PID 1 has exited. */
static int handle_events(struct watch *w, const struct pollfd pf[W_N], const int at[W_N]) {
    if (at[W_CTL] >= 0 && pf[at[W_CTL]].revents && read_records(w)) arm_limits_and_start(w);
    if (w->run->payload_reaped && !w->stats_taken) take_final_accounting(w);
    if (at[W_IN] >= 0 && pf[at[W_IN]].revents) sb_feed_stdin(w);
    if (at[W_OUT] >= 0 && pf[at[W_OUT]].revents) sb_take_output(w, &w->out_r, &w->run->out);
    if (at[W_ERR] >= 0 && pf[at[W_ERR]].revents) sb_take_output(w, &w->err_r, &w->run->err);
    if (at[W_CANCEL] >= 0 && pf[at[W_CANCEL]].revents) take_cancel(w);
    if (at[W_SRC] >= 0 && pf[at[W_SRC]].revents) sb_take_stdin_source(w);
    if (at[W_SIG] >= 0 && pf[at[W_SIG]].revents) sb_take_signals(w);
    return pf[at[W_PID]].revents != 0;
}

static void record_times(struct watch *w, uint64_t ended) {
    struct sb_run *run = w->run;
    run->wall_ns = w->exec_at ? (w->exit_at ? w->exit_at : ended) - w->exec_at : 0;
    run->phase_ns[SB_PHASE_SETUP] = w->exec_at ? w->exec_at - w->started : ended - w->started;
    run->phase_ns[SB_PHASE_RUN] = run->wall_ns;
}

static void close_watch_fds(struct watch *w) {
    int *fds[] = {&w->go_w, &w->ctl_r, &w->in_w, &w->out_r, &w->err_r, &w->src_r};
    for (size_t k = 0; k < sizeof fds / sizeof *fds; k++)
        sb_close_fd(fds[k]);
    w->run->stdin_src_fd = -1;
}

/* After PID 1's exit (killed, or failed, before its EXIT record was handled): its last records,
 * the run's times, its reaping, the figures and its output. */
static void finish(struct watch *w) {
    struct sb_run *run = w->run;
    uint64_t ended = sb_now_ns();
    if (w->ctl_r >= 0) read_records(w); /* written before PID 1 exited */
    sb_close_fd(&w->go_w);
    if (!w->stats_taken) sb_cgroup_read_stats(w->cg, &run->stats);
    record_times(w, ended);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    /* The pidfd polled readable: PID 1 has exited, this only reaps it. */
    syscall(SYS_waitid, P_PIDFD, w->pidfd, &info, WEXITED | __WALL, NULL);
    sb_collect_output(w);
    close_watch_fds(w);
    run->phase_ns[SB_PHASE_COLLECT] = sb_now_ns() - ended;
}

/* After the EXIT record (take_final_accounting() has read the figures and released PID 1): the
 * payload is reaped and whatever it left has been sent SIGKILL by the init, so everything the job
 * wrote is in the pipes already and is drained now. PID 1's exit (the namespace's end: reaping,
 * unmounting, 0.3-8 ms here) and the group's removal are sb_teardown()'s, after the report. */
static void finish_at_payload_end(struct watch *w) {
    struct sb_run *run = w->run;
    uint64_t ended = sb_now_ns();
    record_times(w, ended);
    int *fds[] = {&w->out_r, &w->err_r};
    struct sb_buf *bufs[] = {&run->out, &run->err};
    for (int k = 0; k < 2; k++)
        if (*fds[k] >= 0 && sb_drain(run, *fds[k], bufs[k], run->output_limit) && run->stop == SB_STOP_NONE)
            run->stop = SB_STOP_OUTPUT;
    close_watch_fds(w);
    run->phase_ns[SB_PHASE_COLLECT] = sb_now_ns() - ended;
}

/* The loop between the first "go" and the payload's end (its EXIT record) or PID 1's. */
static void supervise(struct watch *w) {
    if (w->run->stdin_len == 0 && w->src_r < 0) sb_close_fd(&w->in_w);
    int init_done = 0;
    while (!init_done && !w->stats_taken) {
        struct pollfd pf[W_N];
        int at[W_N];
        int n = poll_set(w, pf, at);
        uint64_t now = sb_now_ns();
        enforce_limits(w, now);
        int ready = poll(pf, (nfds_t)n, (int)poll_timeout_ms(w, now));
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        init_done = handle_events(w, pf, at);
    }
    if (init_done || !w->stats_taken)
        finish(w);
    else
        finish_at_payload_end(w);
}

/* What the child reads after "go": the run's mount plan (descriptors and cellblock-init's argv
 * are the standby's own). */
static void hand_plan_to_standby(struct sb_standby *sb, const struct sb_run *run) {
    struct sb_plan *plan = &sb->plan;
    plan->ops = run->plan.ops;
    plan->n_ops = run->plan.n_ops;
    plan->newroot = run->plan.newroot;
    plan->hostname = run->plan.hostname;
}

int sb_teardown(struct sb_standby *sb) {
    if (sb->pidfd >= 0) {
        /* Usually exiting already (go is closed); SIGKILL in case it is anywhere else. Either way
         * the kernel kills every process of its PID namespace. */
        syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        syscall(SYS_waitid, P_PIDFD, sb->pidfd, &info, WEXITED | __WALL, NULL);
    }
    int rc = 0;
    if (sb->cg_created) rc = sb_cgroup_destroy(&sb->cg);
    sb->cg_created = 0;
    sb_standby_close(sb);
    sb->ready = 0;
    return rc;
}

void sb_execute(struct sb_standby *sb, struct sb_run *run) {
    run->status = SB_OK;
    run->stop = SB_STOP_NONE;
    run->payload_reaped = 0;
    run->made_ahead = sb->ahead;
    memcpy(run->phase_ns, sb->phase_ns, sizeof run->phase_ns);
    uint64_t t = sb_now_ns();
    if (!sb->ready) {
        parent_fail(run, sb->setup_errno, "%s", sb->setup_msg);
        return;
    }
    if (!sb_ids_equal(&sb->ids, &run->ids)) { /* the slot runner matches them; this keeps it honest */
        parent_fail(run, EINVAL, "the container was prepared for other ids");
        sb_discard(sb);
        return;
    }
    /* Made ahead with hand-over: the job's binds go on their mount points now, before the limits,
     * the accounting baseline and the job message (the fsize evidence opens them). */
    const uint64_t setup_from = sb_now_ns(); /* the setup phase counts the hand-over */
    if (sb->ahead && sb->n_handed > 0) {
        char err[400];
        int rc = sb_hand_over(sb->pidfd, sb->handed, sb->n_handed, err, sizeof err);
        t += sb_now_ns() - setup_from; /* not the attach phase's */
        if (rc < 0) {
            parent_fail(run, -rc, "hand the binds over: %s", err);
            sb_discard(sb);
            return;
        }
    }
    /* The limits are armed later, when cellblock-init reports READY (arm_limits_and_start()); made
     * ahead, it has (its plan matched this run's: the slot runner checks). */
    if (!sb->ahead) hand_plan_to_standby(sb, run);
    if (!sb->ahead && write(sb->go_w, "g", 1) != 1) {
        parent_fail(run, errno, "release the container: %s", strerror(errno));
        sb_discard(sb);
        return;
    }
    /* Releasing adds to the attach phase of the standby. */
    run->phase_ns[SB_PHASE_ATTACH] = sb->phase_ns[SB_PHASE_ATTACH] + (sb_now_ns() - t);

    struct watch w = {.run = run,
                      .cg = &sb->cg,
                      .pidfd = sb->pidfd,
                      .go_w = sb->go_w,
                      .ctl_r = sb->ctl_r,
                      .in_w = sb->in_w,
                      .out_r = sb->out_r,
                      .err_r = sb->err_r,
                      .src_r = run->stdin_src_fd,
                      .sig_r = run->signal_fd,
                      .started = sb->ahead ? setup_from : sb_now_ns()};
    sb->go_w = sb->ctl_r = sb->in_w = sb->out_r = sb->err_r = -1; /* the watch's now */
    if (sb->ahead) arm_limits_and_start(&w);
    supervise(&w);
    sb_evidence_conclude(run);
    sb_classify(run); /* the container's end is sb_teardown()'s, after the report */
    sb->ready = 0;
}
