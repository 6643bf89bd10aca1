#ifndef CELLBLOCK_SUPERVISE_H
#define CELLBLOCK_SUPERVISE_H

#include "cgroup.h"
#include "sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sb_status { SB_OK, SB_RUNTIME_ERROR, SB_TIME_LIMIT, SB_MEMORY_LIMIT, SB_OUTPUT_LIMIT, SB_SETUP_ERROR };
enum sb_stop {
    SB_STOP_NONE,
    SB_STOP_CPU,
    SB_STOP_WALL,
    SB_STOP_MEMORY,
    SB_STOP_OUTPUT,
    SB_STOP_FSIZE,
    SB_STOP_CANCEL
};

/* Phases of a run, in order; names in sb_phase_names. */
enum sb_phase {
    SB_PHASE_CGROUP,
    SB_PHASE_CLONE,
    SB_PHASE_ATTACH,
    SB_PHASE_SETUP,
    SB_PHASE_RUN,
    SB_PHASE_COLLECT,
    SB_PHASE_TEARDOWN,
    SB_PHASE_N
};
extern const char *const sb_phase_names[SB_PHASE_N];

struct sb_buf {
    char *data; /* malloc'ed; the caller frees */
    size_t len, cap;
    int truncated;
    int eof;
};

struct sb_run {
    /* Inputs. plan.ops/argv/envp/limits are filled by the caller; fds and stacks by sb_run(). */
    struct sb_plan plan;
    const struct sb_cgroup_host *cg_host;
    char cg_name[96];
    struct sb_cgroup_limits cg_limits;
    uint64_t cpu_limit_ns, wall_limit_ns;
    size_t output_limit;
    const char *stdin_data;
    size_t stdin_len;
    unsigned host_id_base; /* ids 0..65535 inside map to host_id_base.. */
    int cancel_fd;         /* readable (eventfd) = cancel the run */
    int ncpus;

    char fd_args[4][16]; /* decimal fd numbers for cellblock-init's argv */

    /* Set by the supervisor from the init's EXIT record. */
    int payload_reaped;
    int payload_wait_status;

    /* Outputs. */
    enum sb_status status;
    enum sb_stop stop;
    int exit_code; /* -1 when killed by a signal */
    int signal;    /* 0 when it exited */
    struct sb_buf out, err;
    uint64_t wall_ns;
    uint64_t phase_ns[SB_PHASE_N]; /* where the time went, for benchmarks and CELLBLOCK_TRACE */
    struct sb_cgroup_stats stats;
    int setup_step; /* sb_step or mount-op index; -1 for parent-side steps named in setup_msg */
    int setup_errno;
    char setup_msg[512];
};

/* Runs one container from start to cleanup. Blocking: call it on a dedicated thread. */
void sb_run(struct sb_run *run);

#ifdef __cplusplus
}
#endif
#endif
