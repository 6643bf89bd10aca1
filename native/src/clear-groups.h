/*
 * Dropping supplementary groups where the namespace may forbid it. A rootless worker without id
 * helpers maps a single id, and the kernel then demands "deny" in /proc/<pid>/setgroups before it
 * accepts the gid map (docs/CGROUP-V2.md, "Rootless mode"): setgroups() fails with EPERM for every
 * process in that namespace, and the groups the worker's user had stay with the job (unmapped,
 * shown as the overflow gid). Only that case is let through: any other failure is the caller's
 * error. Raw syscalls only (syscalls.h): this runs in CLONE_VM children.
 */
#ifndef CELLBLOCK_CLEAR_GROUPS_H
#define CELLBLOCK_CLEAR_GROUPS_H

#include "syscalls.h"

#include <fcntl.h>

/* setgroups(0, NULL), or 0 when it is denied in this user namespace; else -errno. */
static inline long sb_clear_groups(void) {
    long r = SB_SYS2(SYS_setgroups, 0, 0);
    if (r != -1 /* EPERM */) return r;
    long fd = SB_SYS4(SYS_openat, AT_FDCWD, "/proc/self/setgroups", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return r;
    char buf[8] = {0};
    long n = SB_SYS3(SYS_read, fd, buf, sizeof buf - 1);
    SB_SYS1(SYS_close, fd);
    return n >= 4 && buf[0] == 'd' && buf[1] == 'e' && buf[2] == 'n' && buf[3] == 'y' ? 0 : r;
}

#endif
