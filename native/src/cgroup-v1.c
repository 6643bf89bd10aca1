/*
 * cgroup v1: one group per controller hierarchy (memory, pids, cpu, cpuacct, and blkio where the
 * host has it). Memory without swap is limit_in_bytes plus memsw.limit_in_bytes (when swap
 * accounting exists); peak is max_usage_in_bytes, OOM kills come from memory.oom_control, limit hits
 * from memory.failcnt. Disk I/O: blkio.throttle.*_device, one rule per device and rate. v1 throttles
 * what the job's own tasks submit (reads, O_DIRECT writes); its buffered writes are written back by
 * kernel threads outside any group and are not held (v2's io.max holds those too).
 */
#define _GNU_SOURCE
#include "cgroup-ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t err_len, const char *what, const char *dir, int rc) {
    snprintf(err, err_len, "%s in cgroup %s: %s", what, dir, strerror(-rc));
    return rc;
}

static int create(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                  size_t err_len) {
    for (int i = 0; i < SB_CG_N; i++) {
        if (!host->parent[i][0]) continue; /* no blkio hierarchy on this host */
        int shared = 0;                    /* co-mounted hierarchies (cpu,cpuacct) share one directory */
        for (int j = 0; j < i; j++)
            shared |= strcmp(host->parent[i], host->parent[j]) == 0;
        if (shared) continue;
        snprintf(cg->dir[i], SB_CG_PATH, "%s/%s", host->parent[i], name);
        if (mkdir(cg->dir[i], 0755) < 0) {
            int rc = -errno;
            cg->dir[i][0] = 0;
            return fail(err, err_len, "mkdir", host->parent[i], rc);
        }
    }
    const char *acct = cg->dir[SB_CG_CPUACCT][0] ? cg->dir[SB_CG_CPUACCT] : cg->dir[SB_CG_CPU];
    char path[SB_CG_PATH + 32];
    snprintf(path, sizeof path, "%s/cpuacct.usage", acct);
    if (sb_cg_fixture_mode) sb_cg_write(acct, "cpuacct.usage", ""); /* cgroupfs makes it by itself */
    cg->cpu_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (cg->cpu_fd < 0) return fail(err, err_len, "open cpuacct.usage", acct, -errno);
    return 0;
}

static int set_io(struct sb_cgroup *cg, const struct sb_io_limits *io, char *err, size_t err_len) {
    if (!sb_io_wanted(io)) return 0;
    const char *dir = cg->dir[SB_CG_BLKIO];
    if (!dir[0]) {
        snprintf(err, err_len, "I/O limits need the blkio cgroup controller, which this host lacks");
        return -ENOENT;
    }
    const struct {
        const char *file;
        uint64_t rate;
    } rules[] = {
        {"blkio.throttle.read_bps_device", io->read_bps},
        {"blkio.throttle.write_bps_device", io->write_bps},
        {"blkio.throttle.read_iops_device", io->read_iops},
        {"blkio.throttle.write_iops_device", io->write_iops},
    };
    for (unsigned d = 0; d < io->n_devices; d++) {
        for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
            if (rules[i].rate == 0) continue; /* a fresh group has no rule: unlimited */
            char v[64];
            snprintf(v, sizeof v, "%u:%u %llu", io->devices[d].major, io->devices[d].minor,
                     (unsigned long long)rules[i].rate);
            int rc = sb_cg_write(dir, rules[i].file, v);
            if (rc < 0) {
                snprintf(err, err_len, "write %s \"%s\" in cgroup %s: %s", rules[i].file, v, dir,
                         strerror(-rc));
                return rc;
            }
        }
    }
    return 0;
}

static int set_limits(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err, size_t err_len) {
    char v[64];
    const char *mem = cg->dir[SB_CG_MEMORY];
    snprintf(v, sizeof v, "%llu", (unsigned long long)lim->memory_bytes);
    int rc = sb_cg_write(mem, "memory.limit_in_bytes", v);
    if (rc < 0) return fail(err, err_len, "write memory.limit_in_bytes", mem, rc);
    char probe[64];
    if (sb_cg_read(mem, "memory.memsw.limit_in_bytes", probe, sizeof probe) >= 0) {
        rc = sb_cg_write(mem, "memory.memsw.limit_in_bytes", v);
        if (rc < 0) return fail(err, err_len, "write memory.memsw.limit_in_bytes", mem, rc);
    }
    /* Best effort: with memsw limited (or no swap) it changes nothing; without swap accounting it
     * only discourages swapping the job's pages out, so a refusal is no reason to fail the run. */
    (void)sb_cg_write(mem, "memory.swappiness", "0");
    snprintf(v, sizeof v, "%llu", (unsigned long long)lim->pids);
    if ((rc = sb_cg_write(cg->dir[SB_CG_PIDS], "pids.max", v)) < 0)
        return fail(err, err_len, "write pids.max", cg->dir[SB_CG_PIDS], rc);
    const char *cpu = cg->dir[SB_CG_CPU][0] ? cg->dir[SB_CG_CPU] : cg->dir[SB_CG_CPUACCT];
    if (lim->cpu_quota_percent > 0) {
        if ((rc = sb_cg_write(cpu, "cpu.cfs_period_us", "100000")) < 0 ||
            (snprintf(v, sizeof v, "%u", lim->cpu_quota_percent * 1000u),
             rc = sb_cg_write(cpu, "cpu.cfs_quota_us", v)) < 0)
            return fail(err, err_len, "write cpu.cfs_quota_us", cpu, rc);
    }
    return set_io(cg, &lim->io, err, err_len);
}

static int cpu_ns(struct sb_cgroup *cg, uint64_t *ns) {
    char buf[64];
    ssize_t n = pread(cg->cpu_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return n < 0 ? -errno : -EIO;
    buf[n] = 0;
    *ns = strtoull(buf, NULL, 10);
    return 0;
}

/* Writing 0 sets max_usage_in_bytes to the current usage. */
static int reset_peak(struct sb_cgroup *cg) {
    return sb_cg_write(cg->dir[SB_CG_MEMORY], "memory.max_usage_in_bytes", "0");
}

static uint64_t read_u64(const char *dir, const char *file) {
    char buf[64];
    return sb_cg_read(dir, file, buf, sizeof buf) > 0 ? strtoull(buf, NULL, 10) : 0;
}

static int read_stats(struct sb_cgroup *cg, struct sb_cgroup_stats *st) {
    const char *acct = cg->dir[SB_CG_CPUACCT][0] ? cg->dir[SB_CG_CPUACCT] : cg->dir[SB_CG_CPU];
    const char *mem = cg->dir[SB_CG_MEMORY];
    char buf[1024];
    st->cpu_ns = read_u64(acct, "cpuacct.usage");
    /* usage_user/usage_sys are tick-sampled and disagree with the precise total on short runs:
     * keep the precise total and split it in their proportion. */
    uint64_t user = read_u64(acct, "cpuacct.usage_user"), sys = read_u64(acct, "cpuacct.usage_sys");
    if (user + sys > 0) {
        st->user_ns = (uint64_t)((double)st->cpu_ns * (double)user / (double)(user + sys));
        st->system_ns = st->cpu_ns - st->user_ns;
    }
    st->peak_bytes = read_u64(mem, "memory.max_usage_in_bytes");
    st->memory_max_hits = read_u64(mem, "memory.failcnt");
    if (sb_cg_read(mem, "memory.oom_control", buf, sizeof buf) > 0)
        sb_cg_keyed(buf, "oom_kill", &st->oom_kills);
    if (sb_cg_read(cg->dir[SB_CG_PIDS], "pids.events", buf, sizeof buf) > 0)
        sb_cg_keyed(buf, "max", &st->pids_max_hits);
    return 0;
}

const struct sb_cgroup_ops sb_cgroup_v1_ops = {
    .n_dirs = SB_CG_N,
    .create = create,
    .set_limits = set_limits,
    .cpu_ns = cpu_ns,
    .reset_peak = reset_peak,
    .read_stats = read_stats,
    .kill_all = NULL, /* no cgroup.kill on v1 */
};
