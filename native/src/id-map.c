/*
 * A container's id maps, written from the parent side once its setup child exists (see id-map.h).
 * The container itself is still ours: the helpers newuidmap/newgidmap only write the two map files
 * of a process we cloned, after checking the range against /etc/subuid and /etc/subgid.
 */
#define _GNU_SOURCE
#include "id-map.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static enum sb_id_map_mode g_mode = SB_IDMAP_ROOT;
static char g_newuidmap[256], g_newgidmap[256];

int sb_id_map_configure(enum sb_id_map_mode mode, const char *newuidmap, const char *newgidmap) {
    if (mode == SB_IDMAP_SUBID && (!newuidmap || newuidmap[0] != '/' || !newgidmap || newgidmap[0] != '/'))
        return -EINVAL;
    g_mode = mode;
    snprintf(g_newuidmap, sizeof g_newuidmap, "%s", newuidmap ? newuidmap : "");
    snprintf(g_newgidmap, sizeof g_newgidmap, "%s", newgidmap ? newgidmap : "");
    return 0;
}

enum sb_id_map_mode sb_id_map_mode(void) {
    return g_mode;
}

static int write_proc_file(pid_t pid, const char *file, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    const size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len ? 0 : -errno;
    close(fd);
    return rc;
}

/* Runs helper <pid> 0 <base> <count> with an empty environment; its stderr (first line) goes into
 * err. 0, or -EPERM (the helper refused: err says why) or -errno (it could not run). */
static int run_helper(const char *helper, pid_t pid, const struct sb_ids *ids, char *err, size_t errlen) {
    char pid_s[16], base_s[16], count_s[16];
    snprintf(pid_s, sizeof pid_s, "%d", (int)pid);
    snprintf(base_s, sizeof base_s, "%u", ids->host_base);
    snprintf(count_s, sizeof count_s, "%u", ids->count);
    char *const argv[] = {(char *)helper, pid_s, (char *)"0", base_s, count_s, NULL};
    char *const envp[] = {NULL};
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    pid_t child;
    int rc = posix_spawn(&child, helper, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        snprintf(err, errlen, "run %s: %s", helper, strerror(rc));
        return -rc;
    }
    char msg[256];
    size_t got = 0;
    while (got < sizeof msg - 1) {
        ssize_t n = read(out[0], msg + got, sizeof msg - 1 - got);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || errno != EINTR)
            break;
    }
    close(out[0]);
    msg[got] = 0;
    msg[strcspn(msg, "\n")] = 0;
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "wait for %s: %s", helper, strerror(errno));
            return -errno;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    snprintf(err, errlen, "%s %s 0 %s %s failed: %s", helper, pid_s, base_s, count_s,
             msg[0] ? msg : "(no message)");
    return -EPERM;
}

int sb_write_id_maps(pid_t pid, const struct sb_ids *ids, char *err, size_t errlen) {
    char map[64];
    int rc = 0;
    const char *step = "";
    switch (g_mode) {
    case SB_IDMAP_ROOT: /* ids 0..count-1 inside -> the slot's host range */
        snprintf(map, sizeof map, "0 %u %u\n", ids->host_base, ids->count);
        if ((rc = write_proc_file(pid, "uid_map", map)) < 0)
            step = "uid_map";
        else if ((rc = write_proc_file(pid, "gid_map", map)) < 0)
            step = "gid_map";
        break;
    case SB_IDMAP_SINGLE: /* our own ids only; an unprivileged gid_map needs setgroups denied */
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)geteuid());
        if ((rc = write_proc_file(pid, "uid_map", map)) < 0) {
            step = "uid_map";
            break;
        }
        if ((rc = write_proc_file(pid, "setgroups", "deny")) < 0) {
            step = "setgroups";
            break;
        }
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned)getegid());
        if ((rc = write_proc_file(pid, "gid_map", map)) < 0) step = "gid_map";
        break;
    case SB_IDMAP_SUBID:
        if ((rc = run_helper(g_newuidmap, pid, ids, err, errlen)) == 0)
            rc = run_helper(g_newgidmap, pid, ids, err, errlen);
        return rc;
    }
    if (rc < 0) snprintf(err, errlen, "write the id maps (%s): %s", step, strerror(-rc));
    return rc;
}
