// Feeds job messages to cellblock-init's own reader (native/src/init-job.c, linked unchanged) and
// prints, one line each, what it parsed or "error <errno>". stdin is a stream of records, each a
// u32 length and that many bytes of input (one message as it would arrive on go, header and all,
// possibly short or malformed): one process tests many inputs (the emulated v2 VM is slow to
// start processes).
#include "job-message.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *ptrs[SB_JOB_MAX_STRINGS * 2 + 2];

static void parse_one(const unsigned char *msg, size_t got) {
    if (got < SB_JOB_HEADER) {
        printf("error short-header\n");
        return;
    }
    long len = sb_job_body_length(msg);
    if (len < 0) {
        printf("error %ld\n", -len);
        return;
    }
    // What init-main.c does: exactly len bytes must follow; fewer is a short message.
    if (got - SB_JOB_HEADER < (size_t)len) {
        printf("error short-body\n");
        return;
    }
    // Parse a private copy of exactly len bytes, so reading past it is caught by ASan.
    char *body = malloc((size_t)len ? (size_t)len : 1);
    memcpy(body, msg + SB_JOB_HEADER, (size_t)len);
    struct sb_job job;
    int rc = sb_job_parse(body, (size_t)len, &job, ptrs, sizeof ptrs / sizeof *ptrs);
    if (rc < 0) {
        printf("error %d\n", -rc);
    } else {
        printf("uid %u gid %u cwd %s", job.uid, job.gid, job.cwd);
        for (unsigned i = 0; i < job.n_rlimits; i++)
            printf(";rlimit %u %llu %llu", job.rlimits[i].resource, (unsigned long long)job.rlimits[i].soft,
                   (unsigned long long)job.rlimits[i].hard);
        for (char **a = job.argv; *a; a++)
            printf(";arg %s", *a);
        for (char **e = job.envp; *e; e++)
            printf(";env %s", *e);
        printf("\n");
    }
    free(body);
}

int main(void) {
    uint32_t n;
    while (fread(&n, sizeof n, 1, stdin) == 1) {
        unsigned char *msg = malloc(n ? n : 1);
        if (fread(msg, 1, n, stdin) != n) return 2;
        parse_one(msg, n);
        free(msg);
    }
    return 0;
}
