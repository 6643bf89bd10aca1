/* What cellblock-init (init-main.c) and its payload (init-payload.c) share. */
#ifndef CELLBLOCK_INIT_PAYLOAD_H
#define CELLBLOCK_INIT_PAYLOAD_H

#include "job-message.h"
#include "sandbox.h"

#include <sys/socket.h>

/* A decimal argument of cellblock-init's argv (written by the standby: never malformed). */
static inline int sb_arg_int(char **argv, int i) {
    int v = 0;
    for (const char *s = argv[i]; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

/* Payload-side failures go to the init over a CLOEXEC pipe: EOF there means the exec happened. */
struct payload_error {
    int32_t step, err;
};

/* A one-byte message with room for one descriptor (SCM_RIGHTS). */
union fd_control {
    struct cmsghdr hdr;
    char buf[CMSG_SPACE(sizeof(int))];
};

void sb_fd_message(struct msghdr *msg, struct iovec *iov, char *byte, union fd_control *control);

/* The forked payload: argv is cellblock-init's, job the parsed job message; err_fd the error pipe,
 * listener_sock where the allowlist's listener goes. Never returns. */
__attribute__((noreturn)) void sb_payload(char **argv, const struct sb_job *job, int err_fd,
                                          int listener_sock);

#endif
