/* What cellblock-init (init-main.c) and its payload (init-payload.c) share. */
#ifndef CELLBLOCK_INIT_PAYLOAD_H
#define CELLBLOCK_INIT_PAYLOAD_H

#include "job-message.h"
#include "sandbox.h"

#include <sys/socket.h>

/* A decimal argument of cellblock-init's argv (written by the standby: never malformed). */
static inline uint32_t sb_arg_u32(char **argv, int i) {
    uint32_t v = 0;
    for (const char *s = argv[i]; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint32_t)(*s - '0');
    return v;
}
static inline int sb_arg_int(char **argv, int i) {
    return (int)sb_arg_u32(argv, i);
}

/* A payload's failure goes to the init over a CLOEXEC pipe as {step, errno}: EOF there without one
 * means the exec happened (or, before the go, that the payload is gone). Its success before the
 * go is the READY record, which the payload writes on the control pipe itself once parked. */
struct payload_error {
    int32_t step, err;
};

/* The job as the init parsed it, in memory shared with the payload (MAP_SHARED, mapped before the
 * fork; gone at the payload's exec). The init fills it after READY, then releases the payload with
 * one byte on the park pipe; neither writes it after that. Only the pages a message needs are
 * ever touched. */
struct sb_shared_job {
    struct sb_job job;
    char *ptrs[SB_JOB_MAX_STRINGS * 2 + 2];
    unsigned char body[SB_JOB_MAX_BYTES];
};

/* The payload's ends: its error pipe, the socket the allowlist's listener goes over, the park pipe
 * its go arrives on, and the control pipe its READY goes on. */
struct payload_fds {
    int err, listener_sock, park, ctl;
};

/* A one-byte message with room for one descriptor (SCM_RIGHTS). */
union fd_control {
    struct cmsghdr hdr;
    char buf[CMSG_SPACE(sizeof(int))];
};

void sb_fd_message(struct msghdr *msg, struct iovec *iov, char *byte, union fd_control *control);

/* The forked payload: argv is cellblock-init's, shared the job once released. Takes its steps up to
 * the filters, parks, and at go sets the job's rlimits and cwd and execs its program. Never
 * returns; leaves without a word when the park pipe closes without a go. */
__attribute__((noreturn)) void sb_payload(char **argv, const struct payload_fds *fds,
                                          const struct sb_shared_job *shared);

#endif
