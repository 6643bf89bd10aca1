/*
 * The plan of one sandbox run: plain data built by the parent before clone(), read (never
 * allocated) by the container's init and payload after it. See supervise.c for the theory of
 * operation.
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

/* Steps after the mount plan; an error record carries either an op index or one of these. */
enum sb_step {
    SB_STEP_WAIT_GO = 10000,
    SB_STEP_FDS,
    SB_STEP_IDS_ROOT,
    SB_STEP_UNSHARE_CGROUP,
    SB_STEP_MAKE_PRIVATE,
    SB_STEP_PIVOT,
    SB_STEP_DETACH_OLD_ROOT,
    SB_STEP_CHDIR_ROOT,
    SB_STEP_HOSTNAME,
    SB_STEP_SPAWN_PAYLOAD,
    SB_STEP_SETSID,
    SB_STEP_STDIO,
    SB_STEP_RLIMITS,
    SB_STEP_CAPS,
    SB_STEP_IDS_JOB,
    SB_STEP_CWD,
    SB_STEP_NO_NEW_PRIVS,
    SB_STEP_SECCOMP,
    SB_STEP_EXEC
};

struct sb_error_record {
    int32_t step;
    int32_t err;
};

enum { SB_RLIMIT_COUNT = 6 };

struct sb_plan {
    const struct sb_op *ops;
    int n_ops;
    const char *newroot; /* mount point of the new root in the host mount namespace */

    /* Descriptors as numbered in the parent (the child's fd table is a copy). */
    int go_r, err_w, stdin_r, stdout_w, stderr_w;

    /* Payload. */
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const char *hostname;
    int job_uid, job_gid;
    int cap_last_cap;
    int rlimit_resource[SB_RLIMIT_COUNT];
    struct rlimit rlimit_value[SB_RLIMIT_COUNT];
    const struct sock_fprog *seccomp;
    char *payload_stack_top;

    /* Written by the init, read by the parent after the init has been reaped. */
    volatile int payload_pid;
    volatile int payload_reaped;
    volatile int payload_wait_status;
};

/* Entry point of the container's init (PID 1 of the new PID namespace). */
int sb_init_main(void *plan);

#ifdef __cplusplus
}
#endif
#endif
