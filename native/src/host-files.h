/*
 * Host-side file primitives of the worker (never run inside a container): removing a job's work
 * dir whatever the job left in it, and the advisory locks by which workers on one host claim
 * their uid ranges. See host-files.c.
 */
#ifndef CELLBLOCK_HOST_FILES_H
#define CELLBLOCK_HOST_FILES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Removes the tree at path (a missing path is fine). Returns 0, or -errno with err naming the
 * operation and the entry. */
int sb_remove_tree(const char *path, char *err, size_t errlen);

/* The bytes the tree at path occupies (st_blocks of every entry), however deep. Returns them, or
 * -errno with err naming the operation and the entry. */
long long sb_tree_bytes(const char *path, char *err, size_t errlen);

/* Whether the tree under the open directory dir_fd holds a regular file of at least min_size
 * bytes: 1 yes, 0 no (or max_entries looked at first), -errno. Same walk as sb_tree_bytes; the
 * descriptor stays the caller's. */
int sb_tree_has_file_of(int dir_fd, unsigned long long min_size, long max_entries);

/* Opens (creating) the lock file at path and takes an exclusive flock on it without waiting.
 * Returns the held descriptor (close it to release), -EWOULDBLOCK when another open file holds
 * the lock, or another -errno. */
int sb_try_lock(const char *path);

#ifdef __cplusplus
}
#endif
#endif
