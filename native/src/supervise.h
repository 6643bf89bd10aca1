/*
 * One run's lifecycle as the supervising thread sees it: a standby container prepared ahead
 * (standby.c), the run executed in it (supervise.c), the verdict (classify-run.c). The enums'
 * names are what the addon reports; each list below is the one definition of both.
 */
#ifndef CELLBLOCK_SUPERVISE_H
#define CELLBLOCK_SUPERVISE_H

#include "cgroup.h"
#include "sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a run ended (SandboxStatus in native/types.ts). */
#define SB_STATUSES(X)                                                                                       \
    X(SB_OK, "ok")                                                                                           \
    X(SB_RUNTIME_ERROR, "runtime_error")                                                                     \
    X(SB_TIME_LIMIT, "time_limit")                                                                           \
    X(SB_MEMORY_LIMIT, "memory_limit")                                                                       \
    X(SB_OUTPUT_LIMIT, "output_limit")                                                                       \
    X(SB_SETUP_ERROR, "setup_error")

/* Why the supervisor stopped the run, if it did (StopReason in native/types.ts; "none" is null). */
#define SB_STOPS(X)                                                                                          \
    X(SB_STOP_NONE, "none")                                                                                  \
    X(SB_STOP_CPU, "cpu_time")                                                                               \
    X(SB_STOP_WALL, "wall_time")                                                                             \
    X(SB_STOP_MEMORY, "memory")                                                                              \
    X(SB_STOP_OUTPUT, "output")                                                                              \
    X(SB_STOP_FSIZE, "file_size")                                                                            \
    X(SB_STOP_CANCEL, "cancelled")

/* Phases of a run, in order: where the supervisor's time went (SandboxPhase in native/types.ts). */
#define SB_PHASES(X)                                                                                         \
    X(SB_PHASE_CGROUP, "cgroup")                                                                             \
    X(SB_PHASE_CLONE, "clone")                                                                               \
    X(SB_PHASE_ATTACH, "attach")                                                                             \
    X(SB_PHASE_SETUP, "setup")                                                                               \
    X(SB_PHASE_RUN, "run")                                                                                   \
    X(SB_PHASE_COLLECT, "collect")                                                                           \
    X(SB_PHASE_TEARDOWN, "teardown")

#define SB_ENUM_ID(id, name) id,
enum sb_status { SB_STATUSES(SB_ENUM_ID) SB_STATUS_N };
enum sb_stop { SB_STOPS(SB_ENUM_ID) SB_STOP_N };
enum sb_phase { SB_PHASES(SB_ENUM_ID) SB_PHASE_N };
extern const char *const sb_status_names[SB_STATUS_N];
extern const char *const sb_stop_names[SB_STOP_N];
extern const char *const sb_phase_names[SB_PHASE_N];

/* The container's ids (contract/sandbox-identity.ts, passed in by the TS front): ids
 * 0..count-1 inside, uid and gid alike, are host ids host_base..host_base+count-1. */
struct sb_ids {
    unsigned host_base;
    unsigned count;
    unsigned job_uid, job_gid; /* the job's ids inside */
};

int sb_ids_equal(const struct sb_ids *a, const struct sb_ids *b);

struct sb_buf {
    char *data; /* malloc'ed; the caller frees */
    size_t len, cap;
    int truncated;
    int eof;
};

enum { SB_WRITE_DIRS = 8 };

struct sb_run {
    /* Inputs, filled by the caller: the plan's ops, hostname and new root (the standby supplies
     * the plan's descriptors and cellblock-init's argv), and the job message (job-message.h),
     * sent to cellblock-init after its READY. */
    struct sb_plan plan;
    const char *job_msg;
    size_t job_len;
    struct sb_ids ids; /* the standby must have been prepared for exactly these */
    struct sb_cgroup_limits cg_limits;
    uint64_t cpu_limit_ns, wall_limit_ns;
    size_t output_limit; /* bytes per stream */
    const char *stdin_data;
    size_t stdin_len;
    int cancel_fd; /* readable (eventfd) = cancel the run */
    int ncpus;
    /* Live runs (-1 / NULL when unused; a caller must set both fds). */
    int stdin_src_fd; /* more stdin after stdin_data; EOF closes the job's. Closed by the run once it starts
                       */
    int signal_fd;    /* one byte per signal for the job's process group, relayed once it runs */
    /* Called on the supervising thread with each piece of output kept (under the cap), in order;
     * stream 1 = stdout, 2 = stderr. */
    void (*on_output)(void *ctx, int stream, const char *data, size_t len);
    void *output_ctx;

    /* Evidence for output_limit by file size (fsize-evidence.c): RLIMIT_FSIZE and the places the
     * job can write files in, relative to the container's root ("tmp", "dev/shm", writable binds). */
    uint64_t fsize_limit;
    int n_write_dirs;
    char write_dirs[SB_WRITE_DIRS][256];

    /* Set by the supervisor from the init's EXIT record. */
    int payload_reaped;
    int payload_wait_status;
    /* From the init's BLOCKED_SYSCALL record: the call off the allowlist that got the job killed. */
    int blocked_syscall_seen;
    int blocked_syscall_nr;
    uint32_t blocked_syscall_arch;
    /* fsize-evidence.c: the write dirs, opened at READY; whether a file there reached fsize_limit. */
    int write_dirs_open;
    int write_dir_fds[SB_WRITE_DIRS];
    int fsize_evidence;

    /* Outputs. */
    enum sb_status status;
    enum sb_stop stop;
    int exit_code; /* -1 when killed by a signal */
    int signal;    /* 0 when it exited */
    struct sb_buf out, err;
    uint64_t wall_ns;
    uint64_t phase_ns[SB_PHASE_N]; /* where the time went, for benchmarks and the trace line */
    int made_ahead;                /* ran in a container made ahead (slot-runner.h) */
    struct sb_cgroup_stats stats;
    int setup_step; /* sb_step or mount-op index; -1 for parent-side steps named in setup_msg */
    int setup_errno;
    char setup_msg[512];
};

/* A container created ahead of its run: cgroup (no limits yet), pipes, namespaces, id maps and
 * cgroup attach done, its setup child blocked on "go". Taking these steps off the critical path
 * (the cgroup attach alone sometimes waits ~10 ms for an RCU grace period on cgroup v1) is what a
 * standby is for; it is still used exactly once. Made ahead (sb_go_ahead()), it is also mounted,
 * pivoted and read-only, with cellblock-init waiting for its job message and its payload parked. */
enum { SB_FD_ARGS = 5 }; /* ctl, go, stdin, stdout, stderr */

/* What cellblock-init's argv carries besides descriptors: the same for every run of a host. */
struct sb_init_config {
    int seccomp_fd, init_fd;
    int refine_len, main_len; /* the seccomp memfd's two filters, in instructions */
    int cap_last;
};

/* A caller bind handed to a container made ahead at its job's go (hand-over.c): source on the
 * host, target inside the container (its mount point exists there). */
struct sb_handed {
    const char *source;
    const char *target;
    int writable;
};
enum { SB_HANDED_MAX = 16 };
/* 1 when this host can hand binds over (root mode, open_tree and mount_setattr), else 0. */
int sb_hand_over_supported(void);

struct sb_standby {
    int ready;
    int cg_created;
    int born_in_cgroup; /* clone3(CLONE_INTO_CGROUP): no migration */
    struct sb_ids ids;  /* what it was prepared for */
    struct sb_cgroup cg;
    char cg_name[96];
    int go_w, ctl_r, in_w, out_r, err_r, pidfd; /* parent ends */
    char *stack;
    struct sb_plan plan; /* read by the child after "go" */
    int ahead;           /* made ahead: cellblock-init waits for its job message, READY read */
    /* Made ahead with hand-over: its caller binds' mount points are empty until the run's go,
     * which hands these over (set by the slot runner for the run; valid during sb_execute()). */
    const struct sb_handed *handed;
    int n_handed;
    /* cellblock-init's argv (enum sb_init_arg) and its empty environment. */
    char init_args[SB_ARG_N][16];
    char *init_argv[SB_ARG_N + 1];
    char *init_envp[1];
    uint64_t phase_ns[SB_PHASE_N];
    int setup_errno;
    char setup_msg[512];
};

/* Creates a standby container in a new group <host parent>/<cg_name> whose ids are ids; 0, or
 * -errno with sb->setup_msg naming the failing step (the standby then carries that failure to
 * its run). */
int sb_prepare(struct sb_standby *sb, const struct sb_cgroup_host *host, const char *cg_name,
               const struct sb_ids *ids, const struct sb_init_config *init);
/* Makes a prepared standby ahead all the way with a predicted mount plan (ops, new root and
 * hostname must stay valid until this returns): sends "go", and waits until cellblock-init reports
 * READY. 0, or -errno with the standby discarded (sb->setup_msg says why). */
int sb_go_ahead(struct sb_standby *sb, const struct sb_op *ops, int n_ops, const char *newroot,
                const char *hostname);
/* Runs the run in the standby until its result is final: the payload reaped and the group's
 * figures read, or PID 1 ended. Blocking: a dedicated thread. The container's end is left to
 * sb_teardown(), which the caller calls next, after handing the result on. */
void sb_execute(struct sb_standby *sb, struct sb_run *run);
/* Ends a run's container: PID 1 (and with it the PID namespace) killed and reaped, the group
 * emptied and removed, the standby spent. 0, or -errno when the group could not be removed (the
 * next start-up's sweep removes it). Safe on a standby that failed or was discarded. */
int sb_teardown(struct sb_standby *sb);
/* Kills and removes an unused standby. */
void sb_discard(struct sb_standby *sb);

#ifdef __cplusplus
}
#endif
#endif
