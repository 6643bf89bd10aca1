/*
 * One run as its supervising thread watches it (supervise.c), shared with the run's pipes
 * (run-io.c): output capture up to the cap and the stdin relay.
 */
#ifndef CELLBLOCK_WATCH_H
#define CELLBLOCK_WATCH_H

#include "supervise.h"

/* The supervisor's side of one run between the first "go" and the end of its PID 1. It owns the
 * parent ends of the pipes from sb_execute() on and closes them all. */
struct watch {
    struct sb_run *run;
    struct sb_cgroup *cg;
    int pidfd;
    int go_w, ctl_r, in_w, out_r, err_r;
    uint64_t started, exec_at, exit_at; /* exec_at = 0: the payload has not started */
    uint64_t cpu_ns;                    /* the group's CPU time at the last look */
    int stats_taken;                    /* run->stats read at the payload's end */
    size_t stdin_off;
    /* A live run's stdin source (ours from here on: finish() closes it and clears
     * run->stdin_src_fd) and signal pipe (the addon's). */
    int src_r, sig_r;
    size_t relay_len, relay_off;
    char relay[16384];
};

/* supervise.c: stops the run (PID 1 killed: the kernel kills its whole PID namespace); the first
 * reason given is the one reported. */
void sb_kill_container(struct watch *w, enum sb_stop why);

/* run-io.c */
/* Reads what fd has; returns 1 if the output cap was passed. */
int sb_drain(struct sb_run *run, int fd, struct sb_buf *b, size_t limit);
void sb_end_stdin(struct watch *w);
int sb_stdin_pending(const struct watch *w);
void sb_feed_stdin(struct watch *w);
void sb_take_stdin_source(struct watch *w);
void sb_take_signals(struct watch *w);
void sb_take_output(struct watch *w, int *fd, struct sb_buf *b);
void sb_collect_output(struct watch *w);

#endif
