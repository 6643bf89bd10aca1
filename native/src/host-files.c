/*
 * Removing a job's work dir so that nothing can stay behind, whatever the job wrote into it.
 *
 * A compile step may leave any tree in its writable work dir: thousands of nested directories
 * (paths far beyond PATH_MAX, so every path-based call fails with ENAMETOOLONG), directories of
 * mode 000, a huge file at the bottom. The dir lives on tmpfs, so anything left is host RAM for
 * good. Hence the walk below is descriptor-relative: it only ever names one entry inside an open
 * directory (openat/unlinkat), holds two descriptors at a time whatever the depth (it climbs back
 * with openat(".."), counting levels so it never climbs above the root it was given), and does not
 * recurse on the C stack. It runs after the job's last process is gone (its PID namespace died
 * with its init), so nothing moves the tree while we walk it; O_NOFOLLOW keeps a symlink from
 * taking the walk anywhere else.
 *
 * Directories the job made unreadable: the worker runs as root, whose CAP_DAC_OVERRIDE ignores
 * the modes; without it, an EACCES is answered by giving the directory back mode 0700 (the
 * worker owns the tree) and trying once more.
 */
#define _GNU_SOURCE
#include "host-files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

static int failed(char *err, size_t errlen, const char *op, const char *name) {
    int e = errno;
    snprintf(err, errlen, "%s %s: %s", op, name, strerror(e));
    return -e;
}

static int open_dir_at(int fd, const char *name) {
    int child = openat(fd, name, kDirFlags);
    if (child < 0 && errno == EACCES && fchmodat(fd, name, 0700, 0) == 0) child = openat(fd, name, kDirFlags);
    return child;
}

static int unlink_entry(int fd, const char *name, int is_dir) {
    int r = unlinkat(fd, name, is_dir ? AT_REMOVEDIR : 0);
    if (r < 0 && errno == EACCES && fchmod(fd, 0700) == 0) r = unlinkat(fd, name, is_dir ? AT_REMOVEDIR : 0);
    return r;
}

/* One pass over the open directory fd: unlinks what it can. Returns 1 with *child set to the
 * first non-empty subdirectory (opened), 0 when fd is now empty, or -errno. */
static int clear_dir(int fd, int *child, char *err, size_t errlen) {
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return failed(err, errlen, "dup", "directory");
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        close(dup_fd);
        return failed(err, errlen, "read directory", "");
    }
    rewinddir(d); /* the shared offset may be where an earlier pass stopped */
    int result = 0;
    for (struct dirent *e; (errno = 0, e = readdir(d));) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            is_dir = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (unlink_entry(fd, name, is_dir) == 0 || errno == ENOENT) continue;
        if (!is_dir || (errno != ENOTEMPTY && errno != EEXIST)) {
            result = failed(err, errlen, "remove", name);
            break;
        }
        *child = open_dir_at(fd, name);
        result = *child < 0 ? failed(err, errlen, "open directory", name) : 1;
        break;
    }
    if (result == 0 && errno != 0) result = failed(err, errlen, "read directory", "");
    closedir(d);
    return result;
}

int sb_remove_tree(const char *path, char *err, size_t errlen) {
    int fd = open(path, kDirFlags);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        if (errno != ENOTDIR && errno != ELOOP) return failed(err, errlen, "open", path);
        return unlink(path) == 0 ? 0 : failed(err, errlen, "remove", path);
    }
    int depth = 0, r = 0;
    for (;;) {
        int child = -1;
        r = clear_dir(fd, &child, err, errlen);
        if (r < 0) break;
        if (r == 1) {
            close(fd);
            fd = child;
            depth++;
            continue;
        }
        if (depth == 0) break;
        /* Back up one level; the now empty child goes in the parent's next pass. */
        int parent = openat(fd, "..", kDirFlags);
        if (parent < 0) {
            r = failed(err, errlen, "open", "..");
            break;
        }
        close(fd);
        fd = parent;
        depth--;
    }
    close(fd);
    if (r < 0) return r;
    return rmdir(path) == 0 || errno == ENOENT ? 0 : failed(err, errlen, "remove", path);
}

/*
 * The bytes a tree holds (st_blocks, so sparse files count what they really use), walked the same
 * way as sb_remove_tree: two descriptors at any depth, no recursion, O_NOFOLLOW. Going down keeps
 * each level's telldir() cookie on a heap stack; coming back up reopens ".." and seekdir()s to it
 * (the tree is not modified while we walk: its job has ended). Directories of mode 000 are
 * entered as root; without CAP_DAC_OVERRIDE they are reset to 0700 like in the removal.
 */
/* Walks the tree under the open directory fd (taken over: closed on return), calling visit for
 * every entry below it; a nonzero answer stops the walk and is returned. 0 once every entry was
 * visited, or -errno with err naming the operation and the entry. */
static int walk_tree(int fd, const char *path, int (*visit)(const struct stat *st, void *ctx), void *ctx,
                     char *err, size_t errlen) {
    long *cookies = NULL;
    size_t depth = 0, cap = 0;
    int result = 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return failed(err, errlen, "read directory", path);
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0) {
                result = failed(err, errlen, "read directory", "");
                break;
            }
            if (depth == 0) break;
            int parent = openat(dirfd(d), "..", kDirFlags);
            closedir(d);
            d = parent < 0 ? NULL : fdopendir(parent);
            if (!d) {
                if (parent >= 0) close(parent);
                result = failed(err, errlen, "open", "..");
                break;
            }
            seekdir(d, cookies[--depth]);
            continue;
        }
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            result = failed(err, errlen, "stat", e->d_name);
            break;
        }
        if ((result = visit(&st, ctx)) != 0) break;
        if (!S_ISDIR(st.st_mode)) continue;
        if (depth == cap) {
            size_t next = cap ? cap * 2 : 64;
            long *grown = realloc(cookies, next * sizeof *cookies);
            if (!grown) {
                errno = ENOMEM;
                result = failed(err, errlen, "walk", path);
                break;
            }
            cookies = grown;
            cap = next;
        }
        cookies[depth++] = telldir(d);
        int child = open_dir_at(dirfd(d), e->d_name);
        DIR *next = child < 0 ? NULL : fdopendir(child);
        if (!next) {
            if (child >= 0) close(child);
            result = failed(err, errlen, "open directory", e->d_name);
            break;
        }
        closedir(d);
        d = next;
    }
    if (d) closedir(d);
    free(cookies);
    return result;
}

static int add_blocks(const struct stat *st, void *ctx) {
    *(long long *)ctx += (long long)st->st_blocks * 512;
    return 0;
}

long long sb_tree_bytes(const char *path, char *err, size_t errlen) {
    int fd = open(path, kDirFlags);
    if (fd < 0) return failed(err, errlen, "open", path);
    long long total = 0;
    int rc = walk_tree(fd, path, add_blocks, &total, err, errlen);
    return rc < 0 ? rc : total;
}

struct size_search {
    unsigned long long min_size;
    long entries_left;
};

static int big_enough(const struct stat *st, void *ctx) {
    struct size_search *s = ctx;
    if (S_ISREG(st->st_mode) && (unsigned long long)st->st_size >= s->min_size) return 1;
    return --s->entries_left > 0 ? 0 : 2;
}

int sb_tree_has_file_of(int dir_fd, unsigned long long min_size, long max_entries) {
    int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct size_search s = {min_size, max_entries};
    char err[64];
    int rc = walk_tree(fd, "", big_enough, &s, err, sizeof err);
    return rc == 1 ? 1 : rc < 0 ? rc : 0;
}

int sb_try_lock(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}
