// Feeds one job message (header + body, from stdin) to cellblock-init's own reader
// (native/src/init-job.c, linked unchanged) and prints what it parsed, or "error <errno>".
#include "job-message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char msg[SB_JOB_HEADER + SB_JOB_MAX_BYTES + 16];
static char *ptrs[SB_JOB_MAX_STRINGS * 2 + 2];

int main(void) {
    size_t got = 0;
    ssize_t n;
    while (got < sizeof msg && (n = read(0, msg + got, sizeof msg - got)) > 0)
        got += (size_t)n;
    if (got < SB_JOB_HEADER) return printf("error short-header\n"), 0;
    long len = sb_job_body_length(msg);
    if (len < 0) return printf("error %ld\n", -len), 0;
    // What init-main.c does: exactly len bytes must follow; fewer is a short message.
    if (got - SB_JOB_HEADER < (size_t)len) return printf("error short-body\n"), 0;
    // Parse a private copy of exactly len bytes, so reading past it would be caught by ASan.
    char *body = malloc((size_t)len ? (size_t)len : 1);
    memcpy(body, msg + SB_JOB_HEADER, (size_t)len);
    struct sb_job job;
    int rc = sb_job_parse(body, (size_t)len, &job, ptrs, sizeof ptrs / sizeof *ptrs);
    if (rc < 0) {
        printf("error %d\n", -rc);
        free(body);
        return 0;
    }
    printf("uid %u gid %u cwd %s\n", job.uid, job.gid, job.cwd);
    for (unsigned i = 0; i < job.n_rlimits; i++)
        printf("rlimit %u %llu %llu\n", job.rlimits[i].resource, (unsigned long long)job.rlimits[i].soft,
               (unsigned long long)job.rlimits[i].hard);
    for (char **a = job.argv; *a; a++)
        printf("arg %s\n", *a);
    for (char **e = job.envp; *e; e++)
        printf("env %s\n", *e);
    free(body);
    return 0;
}
