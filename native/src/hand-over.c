/*
 * The hand-over (issue 17): a container made ahead is mounted before its job exists, but a job's
 * caller binds (its work dir at /box, a checker's dir) are its own. So a container made ahead
 * with hand-over has the binds' mount points and nothing on them; at the job's go, before the job
 * message and before the limits are armed, the supervisor
 *   1. clones each bind's source as a detached mount tree (open_tree(OPEN_TREE_CLONE |
 *      AT_RECURSIVE), what a recursive bind takes) and sets it private, nosuid and nodev, and
 *      read-only all the way down when the bind is (mount_setattr, AT_RECURSIVE);
 *   2. enters the container's mount namespace on this thread alone (setns through the init's
 *      pidfd; the thread has its own fs_struct, unshared once) and moves each tree onto its
 *      mount point (move_mount): the kernel refuses a mount into a namespace the caller is not
 *      in, so the supervisor must step in;
 *   3. returns to the host's mount namespace and its working directory, or aborts the process
 *      (a supervising thread left in a container's namespace would resolve every later path
 *      there: that must never be survivable).
 * The container meanwhile is cellblock-init blocked on go, with no payload forked: nothing of the
 * job runs while the supervisor is inside. Needs root on the host (open_tree and setns need
 * CAP_SYS_ADMIN in the caller's own namespaces), mount_setattr (5.12) and setns by pidfd (5.8).
 */
#define _GNU_SOURCE
#include "run-parts.h"

#include "id-map.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>

/* Spelled out: <linux/mount.h> clashes with <sys/mount.h> on glibc 2.36. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
enum {
    HO_OPEN_TREE_CLONE = 1,
    HO_OPEN_TREE_CLOEXEC = O_CLOEXEC,
    HO_AT_RECURSIVE = 0x8000,
    HO_MOVE_MOUNT_F_EMPTY_PATH = 0x4,
    HO_ATTR_RDONLY = 0x1,
    HO_ATTR_NOSUID = 0x2,
    HO_ATTR_NODEV = 0x4,
};
struct ho_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* A detached copy of source's tree with the bind's flags, or -errno. */
static int clone_source(const struct sb_handed *b) {
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, b->source,
                          HO_OPEN_TREE_CLONE | HO_OPEN_TREE_CLOEXEC | HO_AT_RECURSIVE);
    if (fd < 0) return -errno;
    struct ho_mount_attr attr = {HO_ATTR_NOSUID | HO_ATTR_NODEV | (b->writable ? 0 : HO_ATTR_RDONLY), 0,
                                 MS_PRIVATE, 0};
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | HO_AT_RECURSIVE, &attr, sizeof attr) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

int sb_hand_over_supported(void) {
    if (sb_id_map_mode() != SB_IDMAP_ROOT) return 0;
    /* Both calls exist and we may make them: a detached copy of the root mount alone (a recursive
     * one would copy every mount of the host, thousands on some nodes). */
    int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/", HO_OPEN_TREE_CLONE | HO_OPEN_TREE_CLOEXEC);
    if (fd < 0) return 0;
    struct ho_mount_attr attr = {HO_ATTR_NOSUID | HO_ATTR_NODEV, 0, MS_PRIVATE, 0};
    const int ok = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0;
    close(fd);
    return ok;
}

/* This thread's way back: its own fs_struct (setns into a mount namespace refuses a shared one,
 * and must not move Node's other threads), the host's mount namespace and its working directory. */
static _Thread_local int host_ns = -1, home = -1;

static int own_fs_once(void) {
    if (host_ns >= 0) return 0;
    if (unshare(CLONE_FS) < 0) return -errno;
    int ns = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0) return -errno;
    int dir = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        int err = errno;
        close(ns);
        return -err;
    }
    host_ns = ns;
    home = dir;
    return 0;
}

static int __attribute__((format(printf, 4, 5)))
ho_fail(int err, char *msg, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < len) snprintf(msg + n, len - (size_t)n, ": %s", strerror(err));
    return -err;
}

int sb_hand_over(int pidfd, const struct sb_handed *binds, int n, char *msg, size_t len) {
    if (n <= 0) return 0;
    if (n > SB_HANDED_MAX) return ho_fail(E2BIG, msg, len, "hand over %d binds", n);
    int fds[SB_HANDED_MAX];
    int rc = 0, made = 0;
    for (; made < n; made++) {
        if ((fds[made] = clone_source(&binds[made])) < 0) {
            rc = ho_fail(-fds[made], msg, len, "clone the bind source %s", binds[made].source);
            break;
        }
    }
    if (rc == 0 && (rc = own_fs_once()) < 0)
        rc = ho_fail(-rc, msg, len, "give the supervising thread its own fs");
    if (rc == 0) {
        if (setns(pidfd, CLONE_NEWNS) < 0) {
            rc = ho_fail(errno, msg, len, "enter the container's mount namespace");
        } else {
            for (int i = 0; i < n && rc == 0; i++)
                if (syscall(SYS_move_mount, fds[i], "", AT_FDCWD, binds[i].target,
                            HO_MOVE_MOUNT_F_EMPTY_PATH) < 0)
                    rc = ho_fail(errno, msg, len, "bind %s on %s", binds[i].source, binds[i].target);
            if (setns(host_ns, CLONE_NEWNS) < 0 || fchdir(home) < 0) abort(); /* see the top */
        }
    }
    for (int i = 0; i < made; i++)
        close(fds[i]);
    return rc;
}
