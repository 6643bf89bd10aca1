/*
 * Version-independent cgroup lifecycle: the host's table of operations (cgroup-v1.c or
 * cgroup-v2.c, chosen once), attach, kill, remove, and the small-file helpers both versions use.
 * Runs in the supervising thread, never in a child.
 */
#define _GNU_SOURCE
#include "cgroup-ops.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set by tests that run this code against fixture directories, where control files are plain
 * files that do not appear by themselves. */
int sb_cg_fixture_mode = 0;

int sb_cg_write(const char *dir, const char *file, const char *value) {
    if (!dir[0]) return -EINVAL; /* a controller without a directory of its own: never "/file" */
    char path[SB_CG_PATH + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC | (sb_cg_fixture_mode ? O_CREAT : 0), 0644);
    if (fd < 0) return -errno;
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    int rc = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return rc;
}

long sb_cg_read(const char *dir, const char *file, char *buf, size_t len) {
    if (!dir[0]) return -EINVAL;
    char path[SB_CG_PATH + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int saved = errno;
    close(fd);
    if (n < 0) return -saved;
    buf[n] = 0;
    return n;
}

int sb_cg_keyed(const char *text, const char *key, uint64_t *out) {
    size_t klen = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            *out = strtoull(line + klen + 1, NULL, 10);
            return 0;
        }
    }
    return -ENOENT;
}

int sb_io_wanted(const struct sb_io_limits *io) {
    return io->n_devices > 0 && (io->read_bps | io->write_bps | io->read_iops | io->write_iops) != 0;
}

int sb_cgroup_host_init(struct sb_cgroup_host *host, int version) {
    host->ops = version == 2 ? &sb_cgroup_v2_ops : version == 1 ? &sb_cgroup_v1_ops : NULL;
    return host->ops ? 0 : -EINVAL;
}

static void init_group(const struct sb_cgroup_host *host, struct sb_cgroup *cg) {
    memset(cg, 0, sizeof *cg);
    cg->ops = host->ops;
    cg->n_dirs = host->ops->n_dirs;
    cg->cpu_fd = -1;
    cg->peak_fd = -1;
}

int sb_cgroup_create(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg, char *err,
                     size_t err_len) {
    init_group(host, cg);
    return cg->ops->create(host, name, cg, err, err_len);
}

int sb_cgroup_set_limits(struct sb_cgroup *cg, const struct sb_cgroup_limits *lim, char *err,
                         size_t err_len) {
    return cg->ops->set_limits(cg, lim, err, err_len);
}

void sb_cgroup_open_existing(const struct sb_cgroup_host *host, const char *name, struct sb_cgroup *cg) {
    init_group(host, cg);
    for (int i = 0; i < cg->n_dirs; i++)
        if (host->parent[i][0]) snprintf(cg->dir[i], SB_CG_PATH, "%s/%s", host->parent[i], name);
}

int sb_cgroup_clone_fd(const struct sb_cgroup_host *host, const struct sb_cgroup *cg) {
    if (!host->clone_into_cgroup || host->ops != &sb_cgroup_v2_ops || !cg->dir[0][0]) return -1;
    return open(cg->dir[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int sb_cgroup_attach(struct sb_cgroup *cg, pid_t pid, char *err, size_t err_len) {
    char value[32];
    snprintf(value, sizeof value, "%d", (int)pid);
    for (int i = 0; i < cg->n_dirs; i++) {
        if (!cg->dir[i][0]) continue; /* v1: a hierarchy shared with an earlier controller */
        int rc = sb_cg_write(cg->dir[i], "cgroup.procs", value);
        if (rc < 0) {
            snprintf(err, err_len, "attach to cgroup %s: %s", cg->dir[i], strerror(-rc));
            return rc;
        }
    }
    return 0;
}

/* A difference of two readings of a monotonic counter; 0 if a failed read left the later one low. */
static uint64_t since(uint64_t now, uint64_t base) {
    return now > base ? now - base : 0;
}

/* Exact on both versions because the group holds one task at this point, the container's init,
 * blocked (or about to block) in read() on its go pipe: v1's cpuacct.usage and v2's usage_usec are
 * sums of the scheduler's precise per-task runtime (not ticks), so the baseline is everything the
 * set-up ran (mounts, pivot_root, the init's exec) up to a few microseconds, and everything after
 * the "go" — the init's fork of the payload, the payload, its children — counts. On v1,
 * usage_user/usage_sys are tick-sampled; read_stats splits the precise total in their proportion,
 * after this baseline. */
int sb_cgroup_start_accounting(struct sb_cgroup *cg) {
    struct sb_cgroup_stats st;
    memset(&st, 0, sizeof st);
    cg->base_cpu_ns = cg->base_user_ns = cg->base_system_ns = 0;
    int rc = cg->ops->read_stats(cg, &st);
    if (rc < 0) return rc;
    cg->base_cpu_ns = st.cpu_ns;
    cg->base_user_ns = st.user_ns;
    cg->base_system_ns = st.system_ns;
    return cg->ops->reset_peak(cg);
}

int sb_cgroup_cpu_ns(struct sb_cgroup *cg, uint64_t *ns) {
    uint64_t total = 0;
    int rc = cg->ops->cpu_ns(cg, &total);
    if (rc == 0) *ns = since(total, cg->base_cpu_ns);
    return rc;
}

int sb_cgroup_read_stats(struct sb_cgroup *cg, struct sb_cgroup_stats *st) {
    memset(st, 0, sizeof *st);
    int rc = cg->ops->read_stats(cg, st);
    st->cpu_ns = since(st->cpu_ns, cg->base_cpu_ns);
    st->user_ns = since(st->user_ns, cg->base_user_ns);
    st->system_ns = since(st->system_ns, cg->base_system_ns);
    return rc;
}

int sb_cgroup_tasks(const struct sb_cgroup *cg) {
    const char *dir = cg->n_dirs == 1 ? cg->dir[0] : cg->dir[SB_CG_PIDS];
    char buf[32];
    if (!dir[0] || sb_cg_read(dir, "pids.current", buf, sizeof buf) <= 0) return -1;
    char *end;
    long n = strtol(buf, &end, 10);
    return end == buf || n < 0 ? -1 : (int)n;
}

/* SIGKILL every pid listed in dir/cgroup.procs; returns how many were listed. */
static int kill_listed(const char *dir) {
    char buf[8192];
    if (sb_cg_read(dir, "cgroup.procs", buf, sizeof buf) <= 0) return 0;
    int n = 0;
    for (char *s = buf; *s;) {
        char *end;
        long pid = strtol(s, &end, 10);
        if (end == s) break;
        if (pid > 0) {
            kill((pid_t)pid, SIGKILL);
            n++;
        }
        s = end;
        while (*s == '\n')
            s++;
    }
    return n;
}

int sb_cgroup_destroy(struct sb_cgroup *cg) {
    if (cg->cpu_fd >= 0) close(cg->cpu_fd);
    if (cg->peak_fd >= 0) close(cg->peak_fd);
    cg->cpu_fd = cg->peak_fd = -1;
    /* Failure here is not final: the loop below kills by pid and reports what it cannot remove. */
    if (cg->ops->kill_all) cg->ops->kill_all(cg);
    int rc = 0;
    for (int i = 0; i < cg->n_dirs; i++) {
        if (!cg->dir[i][0]) continue;
        /* The PID namespace is gone by now, so this normally finds nothing; it is the backstop
         * for a group whose init died before its children were reaped. ~1 s worst case. */
        for (int attempt = 0;; attempt++) {
            kill_listed(cg->dir[i]);
            if (rmdir(cg->dir[i]) == 0 || errno == ENOENT) break;
            if (errno != EBUSY || attempt >= 200) {
                rc = -errno;
                break;
            }
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return rc;
}
