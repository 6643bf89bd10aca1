/*
 * The verdict of a run, from what the supervising thread observed only: the payload's wait
 * status (reported by our init, outside the job's reach), the cgroup's counters, our own timers
 * and why we stopped the run. Never from the program's output.
 */
#include "run-parts.h"

#include <signal.h>
#include <sys/wait.h>

void sb_classify(struct sb_run *run) {
    const struct sb_cgroup_stats *st = &run->stats;
    int reaped = run->payload_reaped;
    int ws = run->payload_wait_status;
    run->exit_code = -1;
    run->signal = SIGKILL; /* unless the init saw the payload end by itself */
    if (reaped) {
        run->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        run->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    }
    /* The init killed the job for a call off the allowlist: report it as the kernel's own seccomp
     * kill would be, SIGSYS (the report also names the call). */
    if (run->blocked_syscall_seen && run->signal == SIGKILL) run->signal = SIGSYS;
    /* A limit smaller than the container itself: once the limits are armed (at READY, with the
     * payload parked), cgroup v2 applies a memory.max below the usage at once and its OOM killer
     * takes the init or the parked payload, which the init reports as a set-up failure. Only the
     * armed limit can kill in the group, so it is the job's memory limit, as when the init alone
     * was there to be killed, and not a failure to retry. */
    if (run->status == SB_SETUP_ERROR && st->oom_kills > 0) {
        run->status = SB_MEMORY_LIMIT;
        run->stop = SB_STOP_MEMORY;
        return;
    }
    if (run->status == SB_SETUP_ERROR) return;
    int failed = !(run->exit_code == 0 && run->signal == 0);
    if (st->oom_kills > 0 || run->stop == SB_STOP_MEMORY) {
        run->status = SB_MEMORY_LIMIT;
        if (run->stop == SB_STOP_NONE) run->stop = SB_STOP_MEMORY;
    } else if (run->stop == SB_STOP_CPU || run->stop == SB_STOP_WALL || st->cpu_ns >= run->cpu_limit_ns ||
               run->wall_ns >= run->wall_limit_ns) {
        run->status = SB_TIME_LIMIT;
        if (run->stop == SB_STOP_NONE)
            run->stop = st->cpu_ns >= run->cpu_limit_ns ? SB_STOP_CPU : SB_STOP_WALL;
    } else if (run->stop == SB_STOP_OUTPUT || run->out.truncated || run->err.truncated) {
        run->status = SB_OUTPUT_LIMIT;
        run->stop = SB_STOP_OUTPUT;
    } else if (run->signal == SIGXFSZ && run->fsize_evidence) {
        /* Only with a file at the cap (fsize-evidence.c): a SIGXFSZ the job arranged itself with a
         * timer or mq_notify is its own runtime_error. */
        run->status = SB_OUTPUT_LIMIT;
        run->stop = SB_STOP_FSIZE;
    } else if (run->stop == SB_STOP_CANCEL) {
        run->status = SB_RUNTIME_ERROR;
    } else if (!failed) {
        run->status = SB_OK;
    } else if (st->memory_max_hits > 0) {
        /* An allocation refused at the limit made the program fail without an OOM kill. */
        run->status = SB_MEMORY_LIMIT;
        run->stop = SB_STOP_MEMORY;
    } else {
        run->status = SB_RUNTIME_ERROR;
    }
}
