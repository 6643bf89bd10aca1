/*
 * The plan of one sandbox run: plain data built by the parent before clone(), read (never
 * allocated) by the container's setup child, and the argv layout and records that cellblock-init
 * shares with the supervisor. See supervise.c for the theory of operation.
 */
#ifndef CELLBLOCK_SANDBOX_H
#define CELLBLOCK_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <sys/resource.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mount-plan operations, executed in order by the init before pivot_root. Paths are absolute in
 * the init's (private) mount namespace, i.e. already prefixed with the new root's mount point. */
enum sb_op_kind {
    SB_OP_TMPFS,       /* mount tmpfs on dst with options data */
    SB_OP_BIND,        /* bind src on dst; flags may hold MS_RDONLY (then remounted ro,nosuid,nodev) */
    SB_OP_MKDIR,       /* mkdir dst (0755), existing is fine */
    SB_OP_MKFILE,      /* create empty file dst (a bind target) */
    SB_OP_SYMLINK,     /* symlink data -> dst */
    SB_OP_WRITE_FILE,  /* create dst with data[0..data_len) (0644) */
    SB_OP_PROC,        /* mount a new procfs on dst */
    SB_OP_REMOUNT_RO,  /* bind dst over itself, then make that mount read-only (for subtrees) */
    SB_OP_MOUNT_RO,    /* make the mount point dst read-only (it must already be a mount) */
    SB_OP_MASK_FILE,   /* bind src (/dev/null) over dst if dst exists */
    SB_OP_MASK_DIR,    /* mount an empty read-only tmpfs over dst if dst exists */
    SB_OP_WRITE_SYSCTL /* write data to the existing file dst */
};

struct sb_op {
    enum sb_op_kind kind;
    const char *step; /* human-readable step name for error reports */
    const char *src;
    const char *dst;
    const char *data;
    size_t data_len;
    unsigned long flags;
};

/* The setup steps after the mount plan, in the order they run, with the names a setup_error
 * reports. An error record carries either a mount-op index (each op names its own step) or one of
 * these, numbered from SB_STEP_FIRST so the two never meet. */
#define SB_STEPS(X)                                                                                          \
    /* container-setup.c, still in Node's address space */                                                   \
    X(SB_STEP_FDS, "close inherited descriptors")                                                            \
    X(SB_STEP_IDS_ROOT, "become root of the user namespace")                                                 \
    X(SB_STEP_UNSHARE_CGROUP, "unshare the cgroup namespace")                                                \
    X(SB_STEP_MAKE_PRIVATE, "make mounts private")                                                           \
    X(SB_STEP_PIVOT, "pivot_root into the new root")                                                         \
    X(SB_STEP_DETACH_OLD_ROOT, "detach the old root")                                                        \
    X(SB_STEP_ENTER_ROOT, "chdir into the new root")                                                         \
    X(SB_STEP_ROOT_READ_ONLY, "make the root read-only")                                                     \
    X(SB_STEP_HOSTNAME, "set the hostname")                                                                  \
    X(SB_STEP_EXEC_INIT, "exec cellblock-init")                                                              \
    /* init-main.c: PID 1 forks the payload before READY, which takes every step up to its */                \
    /* filters ahead of the job and parks (init-payload.c); the rest follows the job message */              \
    X(SB_STEP_SPAWN_PAYLOAD, "spawn the payload")                                                            \
    X(SB_STEP_SETSID, "setsid")                                                                              \
    X(SB_STEP_STDIO, "set up stdio")                                                                         \
    X(SB_STEP_CAPS, "drop capabilities")                                                                     \
    X(SB_STEP_IDS_JOB, "switch to the job's uid/gid")                                                        \
    X(SB_STEP_NO_NEW_PRIVS, "set no_new_privs")                                                              \
    X(SB_STEP_SECCOMP, "install the seccomp filter")                                                         \
    X(SB_STEP_JOB_MESSAGE, "read the job message")                                                           \
    X(SB_STEP_RLIMITS, "set rlimits")                                                                        \
    X(SB_STEP_CWD, "chdir to the working directory")                                                         \
    X(SB_STEP_EXEC, "execve") /* reported with the program's path appended */

enum { SB_STEP_FIRST = 10000 }; /* above any mount plan's length */
#define SB_STEP_ENUM(id, name) id,
enum sb_step { SB_STEP_BEFORE_FIRST = SB_STEP_FIRST - 1, SB_STEPS(SB_STEP_ENUM) SB_STEP_END };
/* Indexed by step - SB_STEP_FIRST. */
extern const char *const sb_step_names[SB_STEP_END - SB_STEP_FIRST];

/* Records on the control pipe, container -> supervisor. One write each (< PIPE_BUF: atomic). */
/* READY: cellblock-init runs in its own address space and waits for the job message on go
 * (job-message.h), and its payload is parked (every step that does not depend on the job done, its
 * filters installed: init-payload.c); the payload writes this record itself as it parks. Only then
 * does the supervisor arm the job's limits and take the accounting baseline (see supervise.c). */
/* BLOCKED_SYSCALL: the job made a call the allowlist does not know; the init killed the job. */
enum sb_record_type {
    SB_REC_ERROR = 1,
    SB_REC_EXEC = 2,
    SB_REC_EXIT = 3,
    SB_REC_READY = 4,
    SB_REC_BLOCKED_SYSCALL = 5
};

struct sb_record {
    int32_t type;
    int32_t step;        /* SB_REC_ERROR: the failing step; BLOCKED_SYSCALL: the syscall number */
    int32_t err;         /* SB_REC_ERROR: errno */
    int32_t wait_status; /* SB_REC_EXIT: the payload's wait status; BLOCKED_SYSCALL: its AUDIT_ARCH */
    int64_t maxrss_kb;   /* SB_REC_EXIT: the payload's ru_maxrss */
    int64_t at_ns; /* CLOCK_MONOTONIC: EXEC = just before the parked payload was released, EXIT = reaped */
};

/* What the container's setup (a CLONE_VM child of the supervising thread) needs. */
struct sb_plan {
    const struct sb_op *ops;
    int n_ops;
    const char *newroot; /* mount point of the new root in the host mount namespace */
    const char *hostname;

    /* Descriptors as numbered in the parent (the child's fd table is a copy); all are kept across
     * the exec of cellblock-init (go_r then carries the job message to it). */
    int go_r, ctl_w, stdin_r, stdout_w, stderr_w, seccomp_fd, init_fd;

    /* argv and envp of cellblock-init (layout: enum sb_init_arg): the same for every job of a
     * slot, so the standby owns them (sb_prepare()); envp is empty. */
    char **init_argv;
    char *const *init_envp;
};

/* argv layout of cellblock-init: nothing job-specific (that is the job message's); the job's ids
 * are the slot's, known when the standby is made, so the payload takes them before its job exists. */
enum sb_init_arg {
    SB_ARG_NAME,
    SB_ARG_CTL_FD,
    SB_ARG_GO_FD,
    SB_ARG_STDIN_FD,
    SB_ARG_STDOUT_FD,
    SB_ARG_STDERR_FD,
    SB_ARG_SECCOMP_FD,
    SB_ARG_SECCOMP_REFINE_LEN, /* instructions of the errno-refinement filter (first in the memfd) */
    SB_ARG_SECCOMP_MAIN_LEN,   /* instructions of the allowlist (right after it) */
    SB_ARG_CAP_LAST,
    SB_ARG_JOB_UID, /* the job's uid and gid inside: the slot's, fixed when the standby is made */
    SB_ARG_JOB_GID,
    SB_ARG_N
};

/* Entry point of the container's setup child; ends by exec'ing cellblock-init as PID 1. */
int sb_container_main(void *plan);

#ifdef __cplusplus
}
#endif
#endif
