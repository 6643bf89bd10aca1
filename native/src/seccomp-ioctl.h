/* The ioctl allowlist, a hand-written BPF prefix of the refinement filter (seccomp-ioctl.c). */
#ifndef CELLBLOCK_SECCOMP_IOCTL_H
#define CELLBLOCK_SECCOMP_IOCTL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Appends the prefix to fd. Returns the instructions written, or -errno. */
long sb_seccomp_write_ioctl_prefix(int fd);

#ifdef __cplusplus
}
#endif
#endif
