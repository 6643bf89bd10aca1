/*
 * cellblock-init's reader of the job message (layout: job-message.h). Freestanding and pure (no
 * system calls, no libc): it is linked into cellblock-init and, unchanged, into the test harness
 * that feeds it truncated and malformed messages (test/native/job-message.test.ts). Every read is
 * checked against the end of the body first; any doubt is an error, never a partial job.
 */
#include "job-message.h"

enum { E2BIG_ = 7, EINVAL_ = 22 };

struct cursor {
    const unsigned char *at, *end;
};

static int take(struct cursor *c, void *out, size_t n) {
    if ((size_t)(c->end - c->at) < n) return -EINVAL_;
    unsigned char *o = out;
    for (size_t i = 0; i < n; i++)
        o[i] = c->at[i];
    c->at += n;
    return 0;
}

static int take_u32(struct cursor *c, uint32_t *v) {
    return take(c, v, sizeof *v);
}

/* A NUL-terminated string inside the body; returns its start, or 0 when unterminated. */
static char *take_string(struct cursor *c) {
    const unsigned char *s = c->at;
    while (c->at < c->end && *c->at)
        c->at++;
    if (c->at == c->end) return 0;
    c->at++; /* the NUL */
    return (char *)s;
}

long sb_job_body_length(const unsigned char header[SB_JOB_HEADER]) {
    struct cursor c = {header, header + SB_JOB_HEADER};
    uint32_t magic = 0, len = 0;
    take_u32(&c, &magic);
    take_u32(&c, &len);
    if (magic != SB_JOB_MAGIC || len < SB_JOB_FIXED) return -EINVAL_;
    if (len > SB_JOB_MAX_BYTES) return -E2BIG_;
    return (long)len;
}

static int take_strings(struct cursor *c, char **ptrs, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!(ptrs[i] = take_string(c))) return -EINVAL_;
    ptrs[n] = 0;
    return 0;
}

int sb_job_parse(char *body, size_t len, struct sb_job *job, char **ptrs, size_t n_ptrs) {
    struct cursor c = {(const unsigned char *)body, (const unsigned char *)body + len};
    uint32_t argc = 0, envc = 0;
    if (take_u32(&c, &job->uid) || take_u32(&c, &job->gid) || take_u32(&c, &argc) || take_u32(&c, &envc) ||
        take_u32(&c, &job->n_rlimits))
        return -EINVAL_;
    if (argc < 1) return -EINVAL_;
    if (job->n_rlimits > SB_JOB_MAX_RLIMITS || argc > SB_JOB_MAX_STRINGS || envc > SB_JOB_MAX_STRINGS ||
        (size_t)argc + envc + 2 > n_ptrs)
        return -E2BIG_;
    for (uint32_t i = 0; i < job->n_rlimits; i++) {
        uint32_t pad = 1;
        struct sb_job_rlimit *r = &job->rlimits[i];
        if (take_u32(&c, &r->resource) || take_u32(&c, &pad) || take(&c, &r->soft, sizeof r->soft) ||
            take(&c, &r->hard, sizeof r->hard) || pad != 0)
            return -EINVAL_;
    }
    if (!(job->cwd = take_string(&c)) || job->cwd[0] != '/') return -EINVAL_;
    job->argv = ptrs;
    job->envp = ptrs + argc + 1;
    if (take_strings(&c, job->argv, argc) || take_strings(&c, job->envp, envc)) return -EINVAL_;
    if (job->argv[0][0] == '\0') return -EINVAL_;
    return c.at == c.end ? 0 : -EINVAL_; /* trailing bytes: not a message we wrote */
}
