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
    /* Inputs. plan.ops/argv/envp/limits are filled by the caller; the standby supplies the rest. */
    struct sb_plan plan;
    const struct sb_cgroup_host *cg_host;
    struct sb_cgroup_limits cg_limits;
    uint64_t cpu_limit_ns, wall_limit_ns;
    size_t output_limit;
    const char *stdin_data;
    size_t stdin_len;
    unsigned host_id_base; /* ids 0..65535 inside map to host_id_base.. */
    int cancel_fd;         /* readable (eventfd) = cancel the run */
    int ncpus;

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

/* A container created ahead of its run: cgroup (no limits yet), pipes, namespaces, id maps and
 * cgroup attach done, its setup child blocked on "go". Taking these steps off the critical path
 * (the cgroup attach alone sometimes waits ~10 ms for an RCU grace period on cgroup v1) is what a
 * standby is for; it is still used exactly once. */
enum { SB_FD_ARGS = 5 }; /* ctl, go, stdin, stdout, stderr */

struct sb_standby {
    int ready;
    int cg_created;
    struct sb_cgroup cg;
    char cg_name[96];
    int go_w, ctl_r, in_w, out_r, err_r, pidfd; /* parent ends */
    char *stack;
    struct sb_plan plan;          /* read by the child after "go" */
    char fd_args[SB_FD_ARGS][16]; /* the child's descriptor numbers, for cellblock-init's argv */
    uint64_t phase_ns[SB_PHASE_N];
    int setup_errno;
    char setup_msg[512];
};

/* Creates a standby container; 0, or -errno with sb->setup_msg naming the failing step. */
int sb_prepare(struct sb_standby *sb, const struct sb_cgroup_host *host, const char *cg_name,
               unsigned host_id_base, int seccomp_fd, int init_fd);
/* Runs the run in the standby (which is consumed either way). Blocking: a dedicated thread. */
void sb_execute(struct sb_standby *sb, struct sb_run *run);
/* Kills and removes an unused standby. */
void sb_discard(struct sb_standby *sb);

#ifdef __cplusplus
}
#endif
#endif
