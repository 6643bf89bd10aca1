/*
 * What standby.c, supervise.c and classify-run.c share; the rest of the addon goes through
 * supervise.h.
 */
#ifndef CELLBLOCK_RUN_PARTS_H
#define CELLBLOCK_RUN_PARTS_H

#include "supervise.h"

#include <time.h>
#include <unistd.h>

static inline uint64_t sb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void sb_close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Closes the standby's descriptors (parent ends, pidfd) and frees the child's stack. */
void sb_standby_close(struct sb_standby *sb);
/* fsize-evidence.c: opens the run's write dirs inside the container of PID 1 (pidfd), before
 * the job starts; after PID 1's end, looks for a file at RLIMIT_FSIZE (only when the payload died
 * of SIGXFSZ) and closes them. */
void sb_evidence_open(struct sb_run *run, int pidfd);
void sb_evidence_conclude(struct sb_run *run);
/* hand-over.c: mounts each bind's source on its target inside the container of pidfd (a
 * container made ahead, its init waiting for the job). 0, or -errno with msg naming the step. */
int sb_hand_over(int pidfd, const struct sb_handed *binds, int n, char *msg, size_t len);
/* Sets run->status, stop, exit_code and signal from what the supervisor observed. */
void sb_classify(struct sb_run *run);

#endif
