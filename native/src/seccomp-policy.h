#ifndef CELLBLOCK_SECCOMP_POLICY_H
#define CELLBLOCK_SECCOMP_POLICY_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The compiled policy: a sealed memfd holding the refinement filter's BPF, then the allowlist's. */
struct sb_seccomp {
    int fd;
    int refine_len; /* instructions */
    int main_len;
};

/* Compiles the policy once per process. Returns 0, or -errno with a message naming the failing
 * part in err. */
int sb_seccomp_compile(struct sb_seccomp *out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
