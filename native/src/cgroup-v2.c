/*
 * cgroup v2: one directory. memory.max with memory.swap.max=0, memory.oom.group=1 (one OOM kill
 * takes the whole job down, so a half-killed job never keeps running), pids.max, optional cpu.max.
 * Accounting from memory.peak (5.19+), memory.events, pids.events and cpu.stat; cgroup.kill
 * (5.14+) ends every process at once. Disk I/O: one io.max line per device (needs the io
 * controller, enabled on our parent by cgroup-v2-delegation.ts).
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

static int create(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                  size_t err_len) {
    snprintf(cg->dir[0], SB_CG_PATH, "%s/%s", host->parent[0], name);
    if (mkdir(cg->dir[0], 0755) < 0) {
        int rc = -errno;
        snprintf(err, err_len, "mkdir cgroup %s: %s", cg->dir[0], strerror(-rc));
        cg->dir[0][0] = 0;
        return rc;
    }
    char path[SB_CG_PATH + 32];
    snprintf(path, sizeof path, "%s/cpu.stat", cg->dir[0]);
    if (sb_cg_fixture_mode) sb_cg_write(cg->dir[0], "cpu.stat", ""); /* cgroupfs makes it by itself */
    cg->cpu_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (cg->cpu_fd < 0) {
        int rc = -errno;
        snprintf(err, err_len, "open cpu.stat in cgroup %s: %s", cg->dir[0], strerror(-rc));
        return rc;
    }
    return 0;
}

static void io_rate(char *buf, size_t len, const char *key, uint64_t rate) {
    if (rate)
        snprintf(buf, len, " %s=%llu", key, (unsigned long long)rate);
    else
        snprintf(buf, len, " %s=max", key);
}

static int set_io(struct sb_cgroup *cg, const struct sb_io_limits *io, char *err, size_t err_len) {
    if (!sb_io_wanted(io)) return 0;
    for (unsigned d = 0; d < io->n_devices; d++) {
        char line[160], r[4][40];
        io_rate(r[0], sizeof r[0], "rbps", io->read_bps);
        io_rate(r[1], sizeof r[1], "wbps", io->write_bps);
        io_rate(r[2], sizeof r[2], "riops", io->read_iops);
        io_rate(r[3], sizeof r[3], "wiops", io->write_iops);
        snprintf(line, sizeof line, "%u:%u%s%s%s%s", io->devices[d].major, io->devices[d].minor, r[0], r[1],
                 r[2], r[3]);
        int rc = sb_cg_write(cg->dir[0], "io.max", line);
        if (rc < 0) {
            snprintf(err, err_len, "write io.max \"%s\" in cgroup %s: %s%s", line, cg->dir[0], strerror(-rc),
                     rc == -ENOENT ? " (is the io controller enabled for our parent group?)" : "");
            return rc;
        }
    }
    return 0;
}

static int set_limits(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err, size_t err_len) {
    char mem[32], pids[32], cpu[48];
    snprintf(mem, sizeof mem, "%llu", (unsigned long long)lim->memory_bytes);
    snprintf(pids, sizeof pids, "%llu", (unsigned long long)lim->pids);
    if (lim->cpu_quota_percent > 0)
        snprintf(cpu, sizeof cpu, "%u 100000", lim->cpu_quota_percent * 1000u);
    else
        snprintf(cpu, sizeof cpu, "max 100000");
    const struct {
        const char *file, *value;
        int optional;
    } writes[] = {
        {"memory.max", mem, 0},
        {"memory.swap.max", "0", 1}, /* absent without swap accounting */
        {"memory.oom.group", "1", 1},
        {"pids.max", pids, 0},
        {"cpu.max", cpu, lim->cpu_quota_percent == 0},
    };
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
        int rc = sb_cg_write(cg->dir[0], writes[i].file, writes[i].value);
        if (rc < 0 && !(writes[i].optional && rc == -ENOENT)) {
            snprintf(err, err_len, "write %s in cgroup %s: %s", writes[i].file, cg->dir[0], strerror(-rc));
            return rc;
        }
    }
    /* A memory.max below what the group already uses: v1 refuses it (EBUSY), v2 takes it and
     * OOM-kills in the group before the write returns (seen on 6.1 with a 4 KiB limit: PID 1 was
     * dead before it got its "go", and the run looked like a failed setup). Say so as v1 does. */
    char events[512];
    uint64_t kills = 0;
    if (sb_cg_read(cg->dir[0], "memory.events", events, sizeof events) > 0 &&
        sb_cg_keyed(events, "oom_kill", &kills) == 0 && kills > 0) {
        snprintf(err, err_len, "memory.max %s in cgroup %s is below what the container uses", mem,
                 cg->dir[0]);
        return -EBUSY;
    }
    return set_io(cg, &lim->io, err, err_len);
}

static int cpu_ns(struct sb_cgroup *cg, uint64_t *ns) {
    char buf[512];
    ssize_t n = pread(cg->cpu_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return n < 0 ? -errno : -EIO;
    buf[n] = 0;
    uint64_t usec = 0;
    int rc = sb_cg_keyed(buf, "usage_usec", &usec);
    if (rc == 0) *ns = usec * 1000;
    return rc;
}

/* Since 6.12 a write to memory.peak resets the watermark for reads through the same descriptor
 * (and no one else's), so the group keeps that descriptor. Older kernels refuse the open for
 * writing or the write: the group's whole-life peak is all there is, and read_stats reads it. */
static int reset_peak(struct sb_cgroup *cg) {
    char path[SB_CG_PATH + 32];
    snprintf(path, sizeof path, "%s/memory.peak", cg->dir[0]);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return 0;
    if (write(fd, "reset\n", 6) != 6) {
        close(fd);
        return 0;
    }
    cg->peak_fd = fd;
    return 0;
}

static uint64_t read_peak(struct sb_cgroup *cg) {
    char buf[64];
    if (cg->peak_fd >= 0) {
        ssize_t n = pread(cg->peak_fd, buf, sizeof buf - 1, 0);
        if (n <= 0) return 0;
        buf[n] = 0;
        return strtoull(buf, NULL, 10);
    }
    return sb_cg_read(cg->dir[0], "memory.peak", buf, sizeof buf) > 0 ? strtoull(buf, NULL, 10) : 0;
}

static int read_stats(struct sb_cgroup *cg, struct sb_cgroup_stats *st) {
    const char *dir = cg->dir[0];
    char buf[2048];
    uint64_t v = 0;
    if (sb_cg_read(dir, "cpu.stat", buf, sizeof buf) > 0) {
        if (sb_cg_keyed(buf, "usage_usec", &v) == 0) st->cpu_ns = v * 1000;
        if (sb_cg_keyed(buf, "user_usec", &v) == 0) st->user_ns = v * 1000;
        if (sb_cg_keyed(buf, "system_usec", &v) == 0) st->system_ns = v * 1000;
    }
    st->peak_bytes = read_peak(cg);
    if (sb_cg_read(dir, "memory.events", buf, sizeof buf) > 0) {
        sb_cg_keyed(buf, "oom_kill", &st->oom_kills);
        sb_cg_keyed(buf, "max", &st->memory_max_hits);
    }
    if (sb_cg_read(dir, "pids.events", buf, sizeof buf) > 0) sb_cg_keyed(buf, "max", &st->pids_max_hits);
    return 0;
}

static int kill_all(struct sb_cgroup *cg) {
    return cg->dir[0][0] ? sb_cg_write(cg->dir[0], "cgroup.kill", "1") : 0;
}

const struct sb_cgroup_ops sb_cgroup_v2_ops = {
    .n_dirs = 1,
    .create = create,
    .set_limits = set_limits,
    .cpu_ns = cpu_ns,
    .reset_peak = reset_peak,
    .read_stats = read_stats,
    .kill_all = kill_all,
};
