/*
 * Evidence for an output_limit verdict by file size (issue 9 item 8).
 *
 * The kernel kills a writer that passes RLIMIT_FSIZE with SIGXFSZ, and that signal is the only
 * thing the wait status shows. The filter refuses every call that names SIGXFSZ as the signal to
 * send, but a POSIX timer (timer_create) or mq_notify takes its signal from a struct sigevent in
 * memory, which seccomp cannot read: a program can still die of a SIGXFSZ it arranged itself. So
 * the signal alone no longer counts. A death by SIGXFSZ is output_limit only when a file the job
 * could write is at least RLIMIT_FSIZE bytes long — what a writer that hit the cap leaves, since
 * the kernel lets a write fill the file up to the limit and refuses only the next one.
 *
 * The places the job can write files in are the container's /tmp and /dev/shm (tmpfs that die with
 * the container) and its writable binds (the work dir). When the init reports READY, before the
 * job exists, the supervisor opens each of them through /proc/<init>/root, resolved inside the
 * container's root (RESOLVE_IN_ROOT, no symlinks); the descriptors keep those mounts alive after
 * the container is gone. Only after a death by SIGXFSZ, with every process of the job dead, are
 * they walked (host-files.c's descriptor-relative walk, bounded) for such a file.
 */
#define _GNU_SOURCE
#include "host-files.h"
#include "run-parts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Entries looked at before giving up (no evidence): /tmp and /dev/shm hold at most 4,096 inodes
 * each; a work dir may hold more, and a job that buries its big file deeper gets runtime_error. */
enum { MAX_ENTRIES = 100000 };

static pid_t pid_of(int pidfd) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char *p = strstr(buf, "\nPid:");
    return p ? (pid_t)strtol(p + 5, NULL, 10) : -1;
}

void sb_evidence_open(struct sb_run *run, int pidfd) {
    for (int i = 0; i < SB_WRITE_DIRS; i++)
        run->write_dir_fds[i] = -1;
    run->write_dirs_open = 1;
    pid_t pid = pid_of(pidfd);
    if (pid <= 0) return;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/root", (int)pid);
    int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return;
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    for (int i = 0; i < run->n_write_dirs && i < SB_WRITE_DIRS; i++)
        run->write_dir_fds[i] = (int)syscall(SYS_openat2, root, run->write_dirs[i], &how, sizeof how);
    close(root);
}

void sb_evidence_conclude(struct sb_run *run) {
    if (!run->write_dirs_open) return;
    const int xfsz = run->payload_reaped && WIFSIGNALED(run->payload_wait_status) &&
                     WTERMSIG(run->payload_wait_status) == SIGXFSZ;
    for (int i = 0; i < SB_WRITE_DIRS; i++) {
        int fd = run->write_dir_fds[i];
        if (fd < 0) continue;
        if (xfsz && run->fsize_limit > 0 && !run->fsize_evidence &&
            sb_tree_has_file_of(fd, run->fsize_limit, MAX_ENTRIES) == 1)
            run->fsize_evidence = 1;
        close(fd);
        run->write_dir_fds[i] = -1;
    }
    run->write_dirs_open = 0;
}
