/*
 * What differs between cgroup v1 and v2, as one table of operations per version (cgroup-v1.c,
 * cgroup-v2.c), plus the small-file helpers both use. Private to the cgroup files: everything
 * else goes through cgroup.h.
 */
#ifndef CELLBLOCK_CGROUP_OPS_H
#define CELLBLOCK_CGROUP_OPS_H

#include "cgroup.h"

struct sb_cgroup_ops {
    /* Directories of one group: one per controller on v1 (shared hierarchies leave theirs
     * empty), one on v2. */
    int n_dirs;
    /* mkdir the group's directories and open its CPU counter into cg->cpu_fd. */
    int (*create)(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                  size_t err_len);
    int (*set_limits)(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err, size_t err_len);
    int (*cpu_ns)(struct sb_cgroup *cg, uint64_t *ns);
    /* Resets the peak-memory watermark to the current usage (sb_cgroup_start_accounting()). */
    int (*reset_peak)(struct sb_cgroup *cg);
    /* Fills the counters this version has; st is zeroed by the caller. */
    int (*read_stats)(struct sb_cgroup *cg, struct sb_cgroup_stats *st);
    /* Kills every process of the group at once where the kernel offers it (v2 cgroup.kill); NULL
     * on v1, where sb_cgroup_destroy()'s loop over cgroup.procs is the only way. */
    int (*kill_all)(struct sb_cgroup *cg);
};

extern const struct sb_cgroup_ops sb_cgroup_v1_ops;
extern const struct sb_cgroup_ops sb_cgroup_v2_ops;

int sb_cg_write(const char *dir, const char *file, const char *value);
/* Reads a whole small file into buf (NUL-terminated); returns length or -errno. */
long sb_cg_read(const char *dir, const char *file, char *buf, size_t len);
/* Value of "key N" in a flat keyed file's contents (memory.events, cpu.stat, pids.events). */
int sb_cg_keyed(const char *text, const char *key, uint64_t *out);
/* True when the run has a device to throttle and at least one rate to throttle it to. */
int sb_io_wanted(const struct sb_io_limits *io);

#endif
