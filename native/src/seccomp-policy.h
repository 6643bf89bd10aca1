#ifndef CELLBLOCK_SECCOMP_POLICY_H
#define CELLBLOCK_SECCOMP_POLICY_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compiles the job allowlist into out (filter malloc'ed, kept for the process's lifetime).
 * Returns 0, or -errno with a message naming the failing part in err. */
int sb_seccomp_compile(struct sock_fprog *out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
