/*
 * The job message: everything job-specific cellblock-init needs, sent by the supervisor on the go
 * pipe after the init's READY record (the init's argv carries only what is the same for every job
 * of a slot: descriptors, seccomp lengths, cap_last, the slot's job uid/gid). Because nothing
 * job-specific is in argv, a container can be mounted, pivoted and have its init and its parked
 * payload waiting before its job exists (made ahead, slot-runner.h); the not-prewarmed path sends
 * the same message, so there is one code path. The payload switched to argv's ids before the
 * message existed: the message's uid/gid must equal them, or the init refuses it.
 *
 * Layout, native byte order (sender and reader are the same machine):
 *   header: u32 SB_JOB_MAGIC, u32 body length (<= SB_JOB_MAX_BYTES)
 *   body:   u32 uid, gid, argc (>= 1), envc, n_rlimits (<= SB_JOB_MAX_RLIMITS)
 *           n_rlimits x {u32 resource, u32 0, u64 soft, u64 hard}
 *           cwd, argv[0..argc), envp[0..envc): each a NUL-terminated string
 * The body must be consumed exactly. The reader (init-job.c) is freestanding and checks every
 * length against the buffer: a short or malformed message is an ERROR record
 * (SB_STEP_JOB_MESSAGE), never a run with a partial argv. The sender is the supervisor, so this is
 * not a trust boundary, but failing closed costs nothing.
 */
#ifndef CELLBLOCK_JOB_MESSAGE_H
#define CELLBLOCK_JOB_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SB_JOB_MAGIC = 0x314a4243, /* "CBJ1" */
    SB_JOB_HEADER = 8,
    SB_JOB_FIXED = 20,              /* the five u32 of the body */
    SB_JOB_RLIMIT = 24,             /* one rlimit entry */
    SB_JOB_MAX_BYTES = 1024 * 1024, /* body; execve's own limit is ~1/4 of the stack limit */
    SB_JOB_MAX_STRINGS = 64 * 1024, /* argc + envc */
    SB_JOB_MAX_RLIMITS = 16         /* RLIM_NLIMITS */
};

struct sb_job_rlimit {
    uint32_t resource;
    uint64_t soft, hard;
};

/* A parsed message: every pointer points into the buffer it was parsed from. */
struct sb_job {
    uint32_t uid, gid;
    uint32_t n_rlimits;
    struct sb_job_rlimit rlimits[SB_JOB_MAX_RLIMITS];
    const char *cwd;
    char **argv; /* NULL-terminated, in the caller's pointer array */
    char **envp; /* NULL-terminated, right after argv's NULL in the same array */
};

/* Parses body[0..len) into job, with ptrs (n_ptrs entries) as room for argv and envp and their
 * two NULLs. 0, or -EINVAL (malformed) / -E2BIG (over a bound). */
int sb_job_parse(char *body, size_t len, struct sb_job *job, char **ptrs, size_t n_ptrs);
/* The body length from a header, or -EINVAL / -E2BIG. */
long sb_job_body_length(const unsigned char header[SB_JOB_HEADER]);

#ifdef __cplusplus
}
#endif
#endif
