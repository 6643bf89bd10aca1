/*
 * One cgroup per run, under our own parent group, on cgroup v1 (one directory per controller) or
 * v2 (one directory). The host layout (version and the parent directories) is detected in
 * TypeScript at start-up and handed in; nothing here looks at groups we did not create.
 */
#ifndef CELLBLOCK_CGROUP_H
#define CELLBLOCK_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { SB_CG_MEMORY, SB_CG_PIDS, SB_CG_CPU, SB_CG_CPUACCT, SB_CG_N };
enum { SB_CG_PATH = 384 };

struct sb_cgroup_host {
    int version; /* 1 or 2 */
    /* v1: our parent group in each controller's hierarchy; v2: parent[0] only. */
    char parent[SB_CG_N][SB_CG_PATH];
};

struct sb_cgroup_limits {
    uint64_t memory_bytes;
    uint64_t pids;
    unsigned cpu_quota_percent; /* 0 = no bandwidth cap */
};

struct sb_cgroup {
    int version;
    int n_dirs;                    /* distinct directories (v1 controllers may share a hierarchy) */
    char dir[SB_CG_N][SB_CG_PATH]; /* v1: indexed by controller; v2: dir[0] */
    int cpu_fd;                    /* v1 cpuacct.usage / v2 cpu.stat, kept open for polling */
};

struct sb_cgroup_stats {
    uint64_t cpu_ns, user_ns, system_ns;
    uint64_t peak_bytes;
    uint64_t oom_kills;       /* processes killed by the OOM killer in this group */
    uint64_t memory_max_hits; /* times usage ran into the limit */
    uint64_t pids_max_hits;   /* fork/clone refused at pids.max */
};

/* Creates <parent>/<name> (no limits yet). On failure returns -errno and names the step in err. */
int sb_cgroup_create(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                     size_t err_len);
/* Writes the run's limits; a standby group gets them only when its run starts. */
int sb_cgroup_set_limits(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err, size_t err_len);
/* Moves pid into the group (every controller on v1). */
int sb_cgroup_attach(struct sb_cgroup *cg, pid_t pid, char *err, size_t err_len);
/* Total CPU time of the group so far, cheap enough to poll. */
int sb_cgroup_cpu_ns(struct sb_cgroup *cg, uint64_t *ns);
int sb_cgroup_read_stats(struct sb_cgroup *cg, struct sb_cgroup_stats *st);
/* Kills every process in the group and removes it; retries while the kernel is still releasing. */
int sb_cgroup_destroy(struct sb_cgroup *cg);
/* Opens a group that already exists (tests read fixture directories through this). */
void sb_cgroup_open_existing(int version, const char *dirs[SB_CG_N], struct sb_cgroup *cg);

/* Tests only: create control files on write (fixture directories are not cgroupfs). */
extern int sb_cg_fixture_mode;

/* Shared helpers for cgroup-v1.c / cgroup-v2.c. */
int sb_cg_write(const char *dir, const char *file, const char *value);
/* Reads a whole small file into buf (NUL-terminated); returns length or -errno. */
long sb_cg_read(const char *dir, const char *file, char *buf, size_t len);
/* Value of "key N" in a flat keyed file's contents (memory.events, cpu.stat, pids.events). */
int sb_cg_keyed(const char *text, const char *key, uint64_t *out);

int sb_cgroup_v1_create(const struct sb_cgroup_host *, const char *, struct sb_cgroup *, char *, size_t);
int sb_cgroup_v1_set_limits(struct sb_cgroup *, const struct sb_cgroup_limits *, char *, size_t);
int sb_cgroup_v1_stats(struct sb_cgroup *, struct sb_cgroup_stats *);
int sb_cgroup_v1_cpu_ns(struct sb_cgroup *, uint64_t *);
int sb_cgroup_v2_create(const struct sb_cgroup_host *, const char *, struct sb_cgroup *, char *, size_t);
int sb_cgroup_v2_set_limits(struct sb_cgroup *, const struct sb_cgroup_limits *, char *, size_t);
int sb_cgroup_v2_stats(struct sb_cgroup *, struct sb_cgroup_stats *);
int sb_cgroup_v2_cpu_ns(struct sb_cgroup *, uint64_t *);
int sb_cgroup_v2_kill(struct sb_cgroup *);

#ifdef __cplusplus
}
#endif
#endif
