/*
 * One cgroup per run, under our own parent group, on cgroup v1 (one directory per controller) or
 * v2 (one directory). The host layout (version and the parent directories) is detected in
 * TypeScript at start-up and handed in; the version picks one table of operations
 * (cgroup-v1.c or cgroup-v2.c) once, in sb_cgroup_host_init(). Nothing here looks at groups we
 * did not create.
 */
#ifndef CELLBLOCK_CGROUP_H
#define CELLBLOCK_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* v1 only: SB_CG_BLKIO's parent is empty where the host has no blkio hierarchy (no directory is
 * made there, and I/O limits are refused). */
enum { SB_CG_MEMORY, SB_CG_PIDS, SB_CG_CPU, SB_CG_CPUACCT, SB_CG_BLKIO, SB_CG_N };
enum { SB_CG_PATH = 384 };

struct sb_cgroup_ops; /* the version's operations: cgroup-ops.h */

struct sb_cgroup_host {
    const struct sb_cgroup_ops *ops;
    /* v1: our parent group in each controller's hierarchy; v2: parent[0] only. */
    char parent[SB_CG_N][SB_CG_PATH];
    /* v2: create each container inside its group with clone3(CLONE_INTO_CGROUP) where the kernel
     * has it, instead of migrating it there (the default; off only to measure the difference). */
    int clone_into_cgroup;
};

enum { SB_IO_MAX_DEVICES = 16 };

/* Disk I/O throttling of one run (v1 blkio.throttle.*, v2 io.max), per block device: the whole
 * disks behind what the job can read or write, resolved by the caller (native/block-devices.ts).
 * Each rate is 0 for unlimited. */
struct sb_io_limits {
    uint64_t read_bps, write_bps, read_iops, write_iops;
    unsigned n_devices;
    struct {
        unsigned major, minor;
    } devices[SB_IO_MAX_DEVICES];
};

struct sb_cgroup_limits {
    uint64_t memory_bytes;
    uint64_t pids;
    unsigned cpu_quota_percent; /* 0 = no bandwidth cap */
    struct sb_io_limits io;
};

struct sb_cgroup {
    const struct sb_cgroup_ops *ops;
    int n_dirs;                    /* v1: SB_CG_N (controllers sharing a hierarchy leave theirs empty) */
    char dir[SB_CG_N][SB_CG_PATH]; /* v1: indexed by controller; v2: dir[0] */
    int cpu_fd;                    /* v1 cpuacct.usage / v2 cpu.stat, kept open for polling */
    int peak_fd;                   /* v2: memory.peak, reset by sb_cgroup_start_accounting(); else -1 */
    uint64_t base_cpu_ns, base_user_ns, base_system_ns; /* the counters when the job started */
};

struct sb_cgroup_stats {
    uint64_t cpu_ns, user_ns, system_ns;
    uint64_t peak_bytes;
    uint64_t oom_kills;       /* processes killed by the OOM killer in this group */
    uint64_t memory_max_hits; /* times usage ran into the limit */
    uint64_t pids_max_hits;   /* fork/clone refused at pids.max */
};

/* Selects the operations for cgroup version 1 or 2; -EINVAL for any other version. The parent
 * directories are the caller's to fill. */
int sb_cgroup_host_init(struct sb_cgroup_host *host, int version);
/* Creates <parent>/<name> (no limits yet). On failure returns -errno and names the step in err. */
int sb_cgroup_create(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                     size_t err_len);
/* Writes the run's limits; a standby group gets them only when its run starts. */
int sb_cgroup_set_limits(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err, size_t err_len);
/* A descriptor of the group's directory for clone3(CLONE_INTO_CGROUP), or -1 where the host does
 * not use it (v1, or turned off); the caller closes it. */
int sb_cgroup_clone_fd(const struct sb_cgroup_host *host, const struct sb_cgroup *cg);
/* Moves pid into the group (every controller on v1). */
int sb_cgroup_attach(struct sb_cgroup *cg, pid_t pid, char *err, size_t err_len);
/* From here on the group's figures are the job's own: the CPU counters are taken as the baseline
 * that sb_cgroup_cpu_ns() and sb_cgroup_read_stats() subtract, and the peak-memory watermark is
 * reset to the current usage. Called while the group's only task (the container's init) waits for
 * its "go", so the container's set-up is excluded and nothing of the job is. */
int sb_cgroup_start_accounting(struct sb_cgroup *cg);
/* CPU time of the group since sb_cgroup_start_accounting() (or its creation), cheap enough to poll. */
int sb_cgroup_cpu_ns(struct sb_cgroup *cg, uint64_t *ns);
int sb_cgroup_read_stats(struct sb_cgroup *cg, struct sb_cgroup_stats *st);
/* How many tasks the group holds now (pids.current, dying ones included); -1 if it cannot tell. */
int sb_cgroup_tasks(const struct sb_cgroup *cg);
/* Kills every process in the group and removes it; retries while the kernel is still releasing. */
int sb_cgroup_destroy(struct sb_cgroup *cg);
/* Opens <parent>/<name>, a group that already exists (tests read fixture directories through this). */
void sb_cgroup_open_existing(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg);

/* Tests only: create control files on write (fixture directories are not cgroupfs). */
extern int sb_cg_fixture_mode;

#ifdef __cplusplus
}
#endif
#endif
