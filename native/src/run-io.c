/*
 * The run's pipes, for the supervising thread (watch.h): output kept up to the cap and handed to
 * the run's on_output as it arrives, and stdin fed from the run's fixed data or relayed from a
 * live run's source through one fixed buffer (see supervise.c's top for the backpressure).
 */
#define _GNU_SOURCE
#include "run-parts.h"
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Appends to b, keeping at most limit bytes; returns 1 when data was dropped. */
static int buf_append(struct sb_run *run, int stream, struct sb_buf *b, const char *data, size_t n,
                      size_t limit) {
    size_t room = limit > b->len ? limit - b->len : 0;
    size_t take = n < room ? n : room;
    if (take > 0) {
        if (b->len + take > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + take)
                cap *= 2;
            char *p = realloc(b->data, cap);
            if (!p) return 1;
            b->data = p;
            b->cap = cap;
        }
        memcpy(b->data + b->len, data, take);
        b->len += take;
        if (run->on_output) run->on_output(run->output_ctx, stream, data, take);
    }
    if (take < n) b->truncated = 1;
    return take < n;
}

/* Reads what is available; returns 1 if the output cap was passed. */
int sb_drain(struct sb_run *run, int fd, struct sb_buf *b, size_t limit) {
    const int stream = b == &run->err ? 2 : 1;
    char chunk[65536];
    int over = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            over |= buf_append(run, stream, b, chunk, (size_t)n, limit);
            continue;
        }
        if (n == 0) b->eof = 1;
        return over;
    }
}

/* Stops relaying stdin: the job's pipe closes (EOF for the job) and so does our source end, so a
 * writer still sending gets EPIPE instead of filling a pipe nobody reads. */
void sb_end_stdin(struct watch *w) {
    sb_close_fd(&w->in_w);
    sb_close_fd(&w->src_r);
}

int sb_stdin_pending(const struct watch *w) {
    return w->stdin_off < w->run->stdin_len || w->relay_off < w->relay_len;
}

void sb_feed_stdin(struct watch *w) {
    const struct sb_run *run = w->run;
    const int fixed = w->stdin_off < run->stdin_len;
    const char *data = fixed ? run->stdin_data + w->stdin_off : w->relay + w->relay_off;
    size_t len = fixed ? run->stdin_len - w->stdin_off : w->relay_len - w->relay_off;
    ssize_t n = write(w->in_w, data, len);
    if (n > 0) *(fixed ? &w->stdin_off : &w->relay_off) += (size_t)n;
    /* EPIPE: the job closed its stdin, and gets no more of it. */
    if (n < 0 && errno != EAGAIN)
        sb_end_stdin(w);
    else if (!sb_stdin_pending(w) && w->src_r < 0)
        sb_close_fd(&w->in_w);
}

/* A live run's source: read only into the empty relay buffer; EOF there is the job's EOF. */
void sb_take_stdin_source(struct watch *w) {
    ssize_t n = read(w->src_r, w->relay, sizeof w->relay);
    if (n > 0) {
        w->relay_off = 0;
        w->relay_len = (size_t)n;
    } else if (n == 0 || errno != EAGAIN) {
        sb_close_fd(&w->src_r);
        if (!sb_stdin_pending(w)) sb_close_fd(&w->in_w);
    }
}

/* Signal bytes from the addon, passed on to cellblock-init once the payload runs. */
void sb_take_signals(struct watch *w) {
    unsigned char sig[16];
    ssize_t n = read(w->sig_r, sig, sizeof sig);
    if (n == 0 || (n < 0 && errno != EAGAIN)) w->sig_r = -1;           /* the addon closes it */
    if (n > 0 && w->go_w >= 0 && write(w->go_w, sig, (size_t)n) < 0) { /* full: dropped */
    }
}

/* Drains one output pipe while the job runs: past the cap, the job is stopped. */
void sb_take_output(struct watch *w, int *fd, struct sb_buf *b) {
    if (sb_drain(w->run, *fd, b, w->run->output_limit)) sb_kill_container(w, SB_STOP_OUTPUT);
    if (b->eof) sb_close_fd(fd);
}

/* Every process of the namespace is dead now; collect what they wrote (bounded: ~1 s). */
void sb_collect_output(struct watch *w) {
    struct sb_run *run = w->run;
    for (int round = 0; round < 40 && (w->out_r >= 0 || w->err_r >= 0); round++) {
        struct pollfd pf[2] = {{w->out_r, POLLIN, 0}, {w->err_r, POLLIN, 0}};
        int *fds[2] = {&w->out_r, &w->err_r};
        struct sb_buf *bufs[2] = {&run->out, &run->err};
        if (poll(pf, 2, 25) <= 0) continue;
        for (int k = 0; k < 2; k++) {
            if (*fds[k] < 0 || !pf[k].revents) continue;
            if (sb_drain(run, *fds[k], bufs[k], run->output_limit) && run->stop == SB_STOP_NONE)
                run->stop = SB_STOP_OUTPUT;
            if (bufs[k]->eof) sb_close_fd(fds[k]);
        }
    }
}
