/* The container's setup child born directly in its cgroup (clone-into-cgroup.c). */
#ifndef CELLBLOCK_CLONE_INTO_CGROUP_H
#define CELLBLOCK_CLONE_INTO_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clones fn(arg) with CLONE_* flags on [stack, stack + stack_size) into the cgroup v2 directory
 * open as cgroup_fd, with exit signal 0 and, if flags has CLONE_PIDFD, its pidfd in *pidfd.
 * Returns the pid, -ENOSYS when this kernel or architecture cannot (the caller then clones and
 * migrates), or another -errno. */
pid_t sb_clone_into_cgroup(int (*fn)(void *), void *arg, char *stack, size_t stack_size, uint64_t flags,
                           int cgroup_fd, int *pidfd);

#ifdef __cplusplus
}
#endif
#endif
