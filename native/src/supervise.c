/*
 * Theory of operation: one run = one container = one cgroup, supervised by one thread.
 *
 * The supervising thread (a dedicated native thread, never the libuv pool) creates the run's
 * cgroup with its limits, five pipes (go, control, stdin, stdout, stderr) and a stack, blocks
 * every signal, and clones the container's setup task with CLONE_VM and new user, PID, mount,
 * network, IPC and UTS namespaces. CLONE_VM makes the clone cost independent of Node's heap size
 * (a fork-style copy of a 256 MiB process costs ~3x more here); the price is that the child
 * shares our memory until it execs, which container-setup.c handles with raw syscalls only.
 *
 * The parent then writes the id maps (0..65535 inside -> a host range unique to the worker slot),
 * attaches the child to the cgroup, and sends the "go" byte. The child builds the root
 * filesystem, pivots, and execs cellblock-init (init-main.c) from a sealed memfd as PID 1; the
 * init forks the payload, which drops its privileges and execs the program. Records on the
 * control pipe mark the exec (the wall clock starts) and the payload's exit (wait status). The
 * poll loop feeds stdin, reads stdout/stderr up to the cap, polls the cgroup's CPU counter,
 * watches the wall deadline and the cancel eventfd, and waits for PID 1's pidfd. Any limit kills
 * PID 1 with SIGKILL, which makes the kernel kill every process of the PID namespace; the cgroup
 * is then emptied (backstop) and removed.
 *
 * The verdict comes only from what this thread observed: the payload's wait status (reported by
 * our init, outside the job's reach), the cgroup counters and our own timers, never from the
 * program's output.
 */
#define _GNU_SOURCE
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { STACK_SIZE = 256 * 1024, SETUP_TIMEOUT_MS = 10000 };

const char *const sb_phase_names[SB_PHASE_N] = {"cgroup", "clone",   "attach",  "setup",
                                                "run",    "collect", "teardown"};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void parent_fail(struct sb_run *run, int err, const char *fmt, const char *arg) {
    if (run->status == SB_SETUP_ERROR) return; /* keep the first failure */
    run->status = SB_SETUP_ERROR;
    run->setup_step = -1;
    run->setup_errno = err;
    snprintf(run->setup_msg, sizeof run->setup_msg, fmt, arg);
}

static int write_id_map(pid_t pid, const char *file, unsigned base) {
    char path[64], map[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int len = snprintf(map, sizeof map, "0 %u 65536\n", base);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = write(fd, map, (size_t)len) == len ? 0 : -errno;
    close(fd);
    return rc;
}

/* Appends to b, keeping at most limit bytes; returns 1 when data was dropped. */
static int buf_append(struct sb_buf *b, const char *data, size_t n, size_t limit) {
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
    }
    if (take < n) b->truncated = 1;
    return take < n;
}

/* Reads what is available; returns 1 if the output cap was passed. */
static int drain(int fd, struct sb_buf *b, size_t limit) {
    char chunk[65536];
    int over = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            over |= buf_append(b, chunk, (size_t)n, limit);
            continue;
        }
        if (n == 0) b->eof = 1;
        return over;
    }
}

static void kill_container(int pidfd, struct sb_run *run, enum sb_stop why) {
    if (run->stop == SB_STOP_NONE) run->stop = why;
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

static int pipe_pair(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Reads every record waiting on the control pipe (EXEC and EXIT often arrive together); returns
 * whether a READY record was among them. */
static int read_records(struct sb_run *run, int *ctl_r, uint64_t *exec_at, uint64_t *exit_at) {
    int ready = 0;
    for (;;) {
        struct sb_record rec;
        ssize_t r = read(*ctl_r, &rec, sizeof rec); /* records are written whole: atomic */
        if (r == (ssize_t)sizeof rec && rec.type == SB_REC_ERROR) {
            if (run->status != SB_SETUP_ERROR) {
                run->status = SB_SETUP_ERROR;
                run->setup_step = rec.step;
                run->setup_errno = rec.err;
            }
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_EXEC) {
            /* The init's clock reading (same CLOCK_MONOTONIC): not delayed by our wake-up. */
            *exec_at = rec.at_ns > 0 ? (uint64_t)rec.at_ns : now_ns();
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_EXIT) {
            *exit_at = rec.at_ns > 0 ? (uint64_t)rec.at_ns : now_ns();
            run->payload_reaped = 1;
            run->payload_wait_status = rec.wait_status;
        } else if (r == (ssize_t)sizeof rec && rec.type == SB_REC_READY) {
            ready = 1;
        } else {
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(ctl_r);
            return ready;
        }
    }
}

/* The loop between release and the init's exit. */
static void supervise(struct sb_run *run, int pidfd, int ctl_r, int *go_w, int in_w, int out_r, int errout_r,
                      struct sb_cgroup *cg) {
    const uint64_t started = now_ns();
    uint64_t exec_at = 0, exit_at = 0;
    size_t stdin_off = 0;
    int init_done = 0;
    if (run->stdin_len == 0) close_fd(&in_w);

    while (!init_done) {
        struct pollfd pf[6];
        int n = 0;
        int i_err = -1, i_in = -1, i_out = -1, i_errout = -1, i_pid, i_cancel = -1;
        if (ctl_r >= 0) pf[i_err = n++] = (struct pollfd){ctl_r, POLLIN, 0};
        if (in_w >= 0 && exec_at) pf[i_in = n++] = (struct pollfd){in_w, POLLOUT, 0};
        if (out_r >= 0) pf[i_out = n++] = (struct pollfd){out_r, POLLIN, 0};
        if (errout_r >= 0) pf[i_errout = n++] = (struct pollfd){errout_r, POLLIN, 0};
        pf[i_pid = n++] = (struct pollfd){pidfd, POLLIN, 0};
        if (run->cancel_fd >= 0) pf[i_cancel = n++] = (struct pollfd){run->cancel_fd, POLLIN, 0};

        uint64_t now = now_ns();
        int64_t timeout_ms;
        if (!exec_at) {
            timeout_ms = (int64_t)SETUP_TIMEOUT_MS - (int64_t)((now - started) / 1000000);
        } else {
            uint64_t cpu = 0;
            sb_cgroup_cpu_ns(cg, &cpu);
            if (cpu >= run->cpu_limit_ns) kill_container(pidfd, run, SB_STOP_CPU);
            if (now - exec_at >= run->wall_limit_ns) kill_container(pidfd, run, SB_STOP_WALL);
            /* CPU grows at most ncpus x wall: sleep until the earliest moment it could pass the
             * limit, bounded to keep the overshoot small. */
            uint64_t cpu_left = run->cpu_limit_ns > cpu ? run->cpu_limit_ns - cpu : 0;
            int64_t cpu_ms = (int64_t)(cpu_left / 1000000 / (uint64_t)(run->ncpus > 0 ? run->ncpus : 1));
            int64_t wall_ms = (int64_t)((run->wall_limit_ns - (now - exec_at)) / 1000000) + 1;
            timeout_ms = cpu_ms < 5 ? 5 : (cpu_ms > 50 ? 50 : cpu_ms);
            if (wall_ms < timeout_ms) timeout_ms = wall_ms;
            if (run->stop != SB_STOP_NONE) timeout_ms = 50;
        }
        if (timeout_ms < 0) timeout_ms = 0;
        if (!exec_at && timeout_ms == 0 && run->status != SB_SETUP_ERROR) {
            parent_fail(run, ETIMEDOUT, "container setup did not finish within %s", "10 s");
            kill_container(pidfd, run, SB_STOP_NONE);
        }
        int ready = poll(pf, (nfds_t)n, (int)timeout_ms);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;

        if (i_err >= 0 && pf[i_err].revents && read_records(run, &ctl_r, &exec_at, &exit_at)) {
            /* PID 1 has its own address space: arm the job's limits, then let it start the job. */
            char err[512];
            int rc = sb_cgroup_set_limits(cg, &run->cg_limits, err, sizeof err);
            if (rc == -EBUSY) {
                /* The kernel refuses a memory limit below what the container already uses: the
                 * job's limit is too small to start anything in. */
                kill_container(pidfd, run, SB_STOP_MEMORY);
            } else if (rc < 0) {
                parent_fail(run, -rc, "%s", err);
                kill_container(pidfd, run, SB_STOP_NONE);
            } else if (write(*go_w, "g", 1) != 1) {
                parent_fail(run, errno, "start the job: %s", strerror(errno));
                kill_container(pidfd, run, SB_STOP_NONE);
            }
            close_fd(go_w);
        }
        if (i_in >= 0 && pf[i_in].revents) {
            ssize_t w = write(in_w, run->stdin_data + stdin_off, run->stdin_len - stdin_off);
            if (w > 0) stdin_off += (size_t)w;
            if ((w < 0 && errno != EAGAIN) || stdin_off >= run->stdin_len) close_fd(&in_w);
        }
        if (i_out >= 0 && pf[i_out].revents) {
            if (drain(out_r, &run->out, run->output_limit)) kill_container(pidfd, run, SB_STOP_OUTPUT);
            if (run->out.eof) close_fd(&out_r);
        }
        if (i_errout >= 0 && pf[i_errout].revents) {
            if (drain(errout_r, &run->err, run->output_limit)) kill_container(pidfd, run, SB_STOP_OUTPUT);
            if (run->err.eof) close_fd(&errout_r);
        }
        if (i_cancel >= 0 && pf[i_cancel].revents) {
            kill_container(pidfd, run, SB_STOP_CANCEL);
            uint64_t v;
            if (read(run->cancel_fd, &v, sizeof v) < 0) { /* already drained */
            }
            run->cancel_fd = -1;
        }
        if (pf[i_pid].revents) init_done = 1;
    }
    uint64_t ended = now_ns();
    if (ctl_r >= 0) read_records(run, &ctl_r, &exec_at, &exit_at); /* written before PID 1 exited */
    close_fd(go_w);
    run->wall_ns = exec_at ? (exit_at ? exit_at : ended) - exec_at : 0;
    run->phase_ns[SB_PHASE_SETUP] = exec_at ? exec_at - started : ended - started;
    run->phase_ns[SB_PHASE_RUN] = run->wall_ns;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | __WALL, NULL);

    /* Every process of the namespace is dead now; collect what they wrote. */
    for (int round = 0; round < 40 && (out_r >= 0 || errout_r >= 0); round++) {
        struct pollfd pf[2] = {{out_r, POLLIN, 0}, {errout_r, POLLIN, 0}};
        if (poll(pf, 2, 25) <= 0) continue;
        if (out_r >= 0 && pf[0].revents) {
            if (drain(out_r, &run->out, run->output_limit) && run->stop == SB_STOP_NONE)
                run->stop = SB_STOP_OUTPUT;
            if (run->out.eof) close_fd(&out_r);
        }
        if (errout_r >= 0 && pf[1].revents) {
            if (drain(errout_r, &run->err, run->output_limit) && run->stop == SB_STOP_NONE)
                run->stop = SB_STOP_OUTPUT;
            if (run->err.eof) close_fd(&errout_r);
        }
    }
    close_fd(&ctl_r);
    close_fd(&in_w);
    close_fd(&out_r);
    close_fd(&errout_r);
    run->phase_ns[SB_PHASE_COLLECT] = now_ns() - ended;
}

static void classify(struct sb_run *run) {
    const struct sb_cgroup_stats *st = &run->stats;
    int reaped = run->payload_reaped;
    int ws = run->payload_wait_status;
    run->exit_code = -1;
    run->signal = SIGKILL; /* unless the init saw the payload end by itself */
    if (reaped) {
        run->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
        run->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
    }
    if (run->status == SB_SETUP_ERROR) return;
    int failed = !(run->exit_code == 0 && run->signal == 0);
    if (st->oom_kills > 0 || run->stop == SB_STOP_MEMORY) {
        run->status = SB_MEMORY_LIMIT;
        if (run->stop == SB_STOP_NONE) run->stop = SB_STOP_MEMORY;
    } else if (run->stop == SB_STOP_CPU || run->stop == SB_STOP_WALL || st->cpu_ns >= run->cpu_limit_ns ||
               run->wall_ns >= run->wall_limit_ns) {
        run->status = SB_TIME_LIMIT;
        if (run->stop == SB_STOP_NONE)
            run->stop = st->cpu_ns >= run->cpu_limit_ns ? SB_STOP_CPU : SB_STOP_WALL;
    } else if (run->stop == SB_STOP_OUTPUT || run->out.truncated || run->err.truncated) {
        run->status = SB_OUTPUT_LIMIT;
        run->stop = SB_STOP_OUTPUT;
    } else if (run->signal == SIGXFSZ) {
        run->status = SB_OUTPUT_LIMIT;
        run->stop = SB_STOP_FSIZE;
    } else if (run->stop == SB_STOP_CANCEL) {
        run->status = SB_RUNTIME_ERROR;
    } else if (!failed) {
        run->status = SB_OK;
    } else if (st->memory_max_hits > 0) {
        /* An allocation refused at the limit made the program fail without an OOM kill. */
        run->status = SB_MEMORY_LIMIT;
        run->stop = SB_STOP_MEMORY;
    } else {
        run->status = SB_RUNTIME_ERROR;
    }
}

static void standby_close_fds(struct sb_standby *sb) {
    int *fds[] = {&sb->go_w, &sb->ctl_r, &sb->in_w, &sb->out_r, &sb->err_r, &sb->pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        close_fd(fds[i]);
    if (sb->stack != MAP_FAILED && sb->stack) munmap(sb->stack, STACK_SIZE);
    sb->stack = MAP_FAILED;
}

static int prepare_fail(struct sb_standby *sb, int err, const char *fmt, const char *arg) {
    sb->setup_errno = err;
    snprintf(sb->setup_msg, sizeof sb->setup_msg, fmt, arg);
    sb_discard(sb);
    return -err;
}

int sb_prepare(struct sb_standby *sb, const struct sb_cgroup_host *host, const char *cg_name,
               unsigned host_id_base, int seccomp_fd, int init_fd) {
    int go[2] = {-1, -1}, ctl[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, eo[2] = {-1, -1};
    memset(sb, 0, sizeof *sb);
    sb->go_w = sb->ctl_r = sb->in_w = sb->out_r = sb->err_r = sb->pidfd = -1;
    sb->stack = MAP_FAILED;
    snprintf(sb->cg_name, sizeof sb->cg_name, "%s", cg_name);
    uint64_t t = now_ns(), t_next;
#define PREP_PHASE(p) (t_next = now_ns(), sb->phase_ns[(p)] = t_next - t, t = t_next)

    char err[512] = "";
    int rc = sb_cgroup_create(host, cg_name, &sb->cg, err, sizeof err);
    sb->cg_created = 1;
    PREP_PHASE(SB_PHASE_CGROUP);
    if (rc < 0) return prepare_fail(sb, -rc, "create cgroup: %s", err);
    if ((rc = pipe_pair(go)) < 0 || (rc = pipe_pair(ctl)) < 0 || (rc = pipe_pair(in)) < 0 ||
        (rc = pipe_pair(out)) < 0 || (rc = pipe_pair(eo)) < 0) {
        int fds[] = {go[0], go[1], ctl[0], ctl[1], in[0], in[1], out[0], out[1], eo[0], eo[1]};
        for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
            if (fds[i] >= 0) close(fds[i]);
        return prepare_fail(sb, -rc, "create %s", "pipes");
    }
    sb->go_w = go[1];
    sb->ctl_r = ctl[0];
    sb->in_w = in[1];
    sb->out_r = out[0];
    sb->err_r = eo[0];
    struct sb_plan *plan = &sb->plan;
    plan->go_r = go[0];
    plan->ctl_w = ctl[1];
    plan->stdin_r = in[0];
    plan->stdout_w = out[1];
    plan->stderr_w = eo[1];
    plan->seccomp_fd = seccomp_fd;
    plan->init_fd = init_fd;
    const int child_fds[SB_FD_ARGS] = {ctl[1], go[0], in[0], out[1], eo[1]};
    for (int i = 0; i < SB_FD_ARGS; i++)
        snprintf(sb->fd_args[i], sizeof sb->fd_args[i], "%d", child_fds[i]);

    /* The job reopens its stdio through /proc/self/fd (/dev/stdin, /dev/stdout): the pipes must
     * belong to its uid, or that open is refused. They are reachable only through the fds. */
    const uid_t job = host_id_base + 1000;
    int chown_failed =
        fchown(in[0], job, job) < 0 || fchown(out[1], job, job) < 0 || fchown(eo[1], job, job) < 0;
    int chown_errno = errno;
    fcntl(ctl[0], F_SETFL, O_NONBLOCK);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(eo[0], F_SETFL, O_NONBLOCK);
    sb->stack =
        mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    int stack_errno = errno;
    pid_t pid = -1;
    int clone_errno = 0;
    if (!chown_failed && sb->stack != MAP_FAILED) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        const int flags = CLONE_VM | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET |
                          CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD; /* exit signal 0: no SIGCHLD into Node */
        pid = clone(sb_container_main, sb->stack + STACK_SIZE, flags, plan, &sb->pidfd);
        clone_errno = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    PREP_PHASE(SB_PHASE_CLONE);
    /* The child has its own copies now. */
    int child_ends[] = {go[0], ctl[1], in[0], out[1], eo[1]};
    for (size_t i = 0; i < sizeof child_ends / sizeof *child_ends; i++)
        close(child_ends[i]);
    if (chown_failed)
        return prepare_fail(sb, chown_errno, "hand the stdio pipes to the job's uid: %s",
                            strerror(chown_errno));
    if (sb->stack == MAP_FAILED) return prepare_fail(sb, stack_errno, "allocate the %s", "stack");
    if (pid < 0)
        return prepare_fail(sb, clone_errno, "clone the container: %s (are user namespaces enabled?)",
                            strerror(clone_errno));
    if ((rc = write_id_map(pid, "uid_map", host_id_base)) < 0 ||
        (rc = write_id_map(pid, "gid_map", host_id_base)) < 0)
        return prepare_fail(sb, -rc, "write the id maps: %s", strerror(-rc));
    if ((rc = sb_cgroup_attach(&sb->cg, pid, err, sizeof err)) < 0) return prepare_fail(sb, -rc, "%s", err);
    PREP_PHASE(SB_PHASE_ATTACH);
    sb->ready = 1;
    return 0;
}

void sb_discard(struct sb_standby *sb) {
    if (sb->pidfd >= 0) {
        /* Closing "go" without the byte makes a waiting child leave by itself; SIGKILL in case it
         * is anywhere else. */
        close_fd(&sb->go_w);
        syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
        siginfo_t info;
        syscall(SYS_waitid, P_PIDFD, sb->pidfd, &info, WEXITED | __WALL, NULL);
    }
    standby_close_fds(sb);
    if (sb->cg_created) sb_cgroup_destroy(&sb->cg);
    sb->cg_created = 0;
    sb->ready = 0;
}

void sb_execute(struct sb_standby *sb, struct sb_run *run) {
    run->status = SB_OK;
    run->stop = SB_STOP_NONE;
    run->payload_reaped = 0;
    memcpy(run->phase_ns, sb->phase_ns, sizeof run->phase_ns);
    uint64_t t = now_ns(), t_next;
#define PHASE(p) (t_next = now_ns(), run->phase_ns[(p)] = t_next - t, t = t_next)
    if (!sb->ready) {
        parent_fail(run, sb->setup_errno, "%s", sb->setup_msg);
        return;
    }
    /* What the child reads after "go": the run's plan, with this standby's descriptors. */
    struct sb_plan *plan = &sb->plan;
    plan->ops = run->plan.ops;
    plan->n_ops = run->plan.n_ops;
    plan->newroot = run->plan.newroot;
    plan->hostname = run->plan.hostname;
    plan->init_argv = run->plan.init_argv;
    plan->init_envp = run->plan.init_envp;
    const int args[SB_FD_ARGS] = {SB_ARG_CTL_FD, SB_ARG_GO_FD, SB_ARG_STDIN_FD, SB_ARG_STDOUT_FD,
                                  SB_ARG_STDERR_FD};
    for (int i = 0; i < SB_FD_ARGS; i++)
        plan->init_argv[args[i]] = sb->fd_args[i];

    /* The limits are armed later, when cellblock-init reports READY (see supervise()). */
    if (write(sb->go_w, "g", 1) != 1) {
        parent_fail(run, errno, "release the container: %s", strerror(errno));
        sb_discard(sb);
        return;
    }
    PHASE(SB_PHASE_ATTACH); /* limits and release add to the attach phase of a standby */
    run->phase_ns[SB_PHASE_ATTACH] += sb->phase_ns[SB_PHASE_ATTACH];
    supervise(run, sb->pidfd, sb->ctl_r, &sb->go_w, sb->in_w, sb->out_r, sb->err_r, &sb->cg);
    sb->ctl_r = sb->in_w = sb->out_r = sb->err_r = -1; /* closed by supervise() */
    sb_cgroup_read_stats(&sb->cg, &run->stats);
    classify(run);
    t = now_ns();
    if (sb_cgroup_destroy(&sb->cg) < 0 && run->status != SB_SETUP_ERROR)
        parent_fail(run, EBUSY, "remove cgroup %s", sb->cg_name);
    sb->cg_created = 0;
    PHASE(SB_PHASE_TEARDOWN);
    standby_close_fds(sb);
    sb->ready = 0;
}
