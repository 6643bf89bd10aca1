/*
 * The seccomp policy, compiled once per process with libseccomp and exported as raw BPF into one
 * sealed memfd; each payload only installs it.
 *
 * Two filters, because libseccomp cannot express "allow ioctl except these commands": a syscall
 * with an unconditional rule drops its conditional ones. The allowlist allows ioctl and socket
 * outright; a small refinement filter (default allow) returns EPERM for the dangerous ioctls and
 * EAFNOSUPPORT for socket families other than local, IPv4 and IPv6, and refuses fcntl leases and
 * F_NOTIFY (a channel between concurrent jobs through shared inodes). The kernel runs both and
 * applies the stricter verdict. flock and fcntl's lock commands are off the allowlist: they reach
 * the init as notifications, which performs them on the job's own files only (init-locks.c).
 *
 * Policy: native architecture only (any other arch, including i386 via int 0x80 and x32 numbers,
 * is killed outright); default action a user notification: the kernel holds the calling thread and
 * tells cellblock-init, which reports the call to the supervisor and kills the job (a plain
 * KILL_PROCESS leaves no trace of which call it was); ENOSYS for clone3 and io_uring so runtimes fall
 * back to clone and threads; clone allowed only without namespace flags; sockets only for local,
 * IPv4 and IPv6 families (the network namespace has no route anywhere); TIOCSTI/TIOCLINUX ioctls
 * refused comparing only the low 32 bits (CVE-2019-10063); personality limited to Docker's five
 * values. Everything that
 * creates namespaces, mounts, traces, loads code into the kernel or keeps state across jobs
 * (keyrings) is simply not on the list.
 */
#define _GNU_SOURCE
#include "seccomp-policy.h"
#include "seccomp-ioctl.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const allowed[] = {
    "_llseek", "accept", "accept4", "access", "alarm", "arch_prctl", "bind", "brk", "capget", "chdir",
    "chmod", "chown", "clock_getres", "clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2", "execve", "execveat", "exit",
    "exit_group", "faccessat", "faccessat2", "fadvise64", "fallocate", "fchdir", "fchmod", "fchmodat",
    "fchown", "fchownat", "fdatasync", "fgetxattr", "flistxattr", "fork", "fstat", "fstatfs", "fsync",
    "ftruncate", "futex", "futex_waitv", "futimesat", "get_mempolicy", "get_robust_list", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresuid",
    "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid",
    "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "kill", "lchown",
    "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "lseek", "lstat", "madvise",
    "membarrier", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2",
    "mlockall", "mmap", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedsend", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "nanosleep", "newfstatat", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "poll", "ppoll", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "pselect6", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat",
    "readv", "recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "rename", "renameat", "renameat2",
    "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
    "sched_rr_get_interval", "sched_setaffinity", "sched_yield", "select", "semctl", "semget", "semop",
    "semtimedop", "sendfile", "sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_tid_address",
    "setitimer", "setpgid", "setpriority", "setsid", "setsockopt", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat",
    "sync", "sync_file_range", "syncfs", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_settime", "timerfd_create", "timerfd_gettime",
    "timerfd_settime", "times", "tkill", "truncate", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimes", "vfork", "wait4", "waitid", "write", "writev",
    /* Setting one's own ids to values already held is harmless (no caps, no_new_privs); setuid
     * programs and runtimes call these. */
    "setgid", "setuid", "setregid", "setreuid", "setresgid", "setresuid", "setgroups", "setfsgid", "setfsuid",
    "ioprio_get", "ioprio_set", "pkey_alloc", "pkey_free", "pkey_mprotect", "signalfd", "signalfd4",
    "vmsplice", "sched_setparam",
    /* NUMA placement of the caller's own memory (get_mempolicy is above): libnuma probes
     * set_mempolicy when it loads (Octave, anything linked with MPI); the cgroup still bounds the
     * memory, and moving other processes' pages needs CAP_SYS_NICE, which jobs lack. */
    "set_mempolicy", "mbind"};

/* Namespace-creating clone flags (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET). */
static const scmp_datum_t clone_ns_flags = 0x7E020000;

static const int personality_ok[] = {0x0, 0x8, 0x20000, 0x20008, (int)0xffffffff};

static const int socket_families_ok[] = {AF_UNIX, AF_INET, AF_INET6};
enum { AF_HIGHEST = 45 }; /* AF_MCTP, the last family of Linux 6.x; higher ones get EAFNOSUPPORT anyway */
static int add_errno_policy(scmp_filter_ctx ctx, const char **failed);

static int add_allowlist(scmp_filter_ctx ctx, const char **failed) {
    int rc;
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
            *failed = allowed[i];
            return rc;
        }
    }
    *failed = "clone";
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                               SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags, 0))) < 0)
        return rc;
    *failed = "clone3/io_uring";
    const int enosys[] = {SCMP_SYS(clone3), SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
                          SCMP_SYS(io_uring_register)};
    for (size_t i = 0; i < sizeof enosys / sizeof *enosys; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), enosys[i], 0)) < 0) return rc;
    *failed = "personality";
    for (size_t i = 0; i < sizeof personality_ok / sizeof *personality_ok; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                                   SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)(unsigned int)personality_ok[i]))) < 0)
            return rc;
    *failed = "socket/ioctl";
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 0)) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0)) < 0)
        return rc;
    return add_errno_policy(ctx, failed);
}

/* ---- The errno policy (issue 10, issue 9 item 13) ------------------------------------------------
 * What an ordinary program calls and handles failing gets the errno it would meet as an
 * unprivileged user outside, instead of being killed; the call itself never runs, so the kernel's
 * attack surface is the same as with a kill. Killing stays for what only an attack does (mount,
 * namespaces, ptrace, bpf, keyrings, modules, ...: everything else not on the allowlist). Each
 * entry's reason is in docs/ARCHITECTURE.md, "The errno policy". */

/* Setting clocks and the hostname: an unprivileged user gets EPERM (no CAP_SYS_TIME/SYS_ADMIN);
 * Python's test_time, ntp clients and `hostname x` expect exactly that. chroot needs
 * CAP_SYS_CHROOT, which no job holds, so the kernel would refuse it too (test_os calls it on
 * error paths). */
static const char *const errno_eperm[] = {"clock_settime", "settimeofday",  "adjtimex",
                                          "clock_adjtime", "stime",         "sethostname",
                                          "setdomainname", "sched_setattr", "chroot"};
/* Writing extended attributes: ENOTSUP, what a filesystem without user xattrs answers; every
 * copying library (shutil.copystat, cp -a, rsync) treats it as "nothing to copy". Reading them
 * stays allowed. setxattrat (463) and removexattrat (466) are numbers libseccomp 2.5 cannot name. */
static const char *const errno_enotsup[] = {"setxattr",    "lsetxattr",    "fsetxattr",
                                            "removexattr", "lremovexattr", "fremovexattr"};
enum { NR_SETXATTRAT = 463, NR_REMOVEXATTRAT = 466 };
/* Optional or newer kernel features that libcs and runtimes probe and fall back from on ENOSYS.
 * Numbers, not names: most are newer than libseccomp 2.5 (the same on x86_64 and aarch64, whose
 * tables are unified from 424 on). */
static const int errno_enosys[] = {
    440,           /* process_madvise: only advises on another process's memory */
    444, 445, 446, /* landlock_*: a program sandboxing itself goes on without it, as on old kernels */
    447,           /* memfd_secret */
    450,           /* set_mempolicy_home_node */
    451,           /* cachestat: a page-cache residency probe (issue 9 item 5); nothing needs it */
    453,           /* map_shadow_stack: glibc runs without a shadow stack */
    454, 455, 456, /* futex_wake/wait/requeue (futex2): callers fall back to futex */
    457, 458,      /* statmount/listmount */
    459, 460, 461, /* lsm_*_self_attr, lsm_list_modules */
    462,           /* mseal: glibc seals nothing and goes on */
    464, 465,      /* getxattrat/listxattrat: fall back to the path calls */
    468, 469,      /* file_getattr/file_setattr */
};
/* Syscalls newer than this policy: ENOSYS, so a runtime built against a newer libc falls back as
 * it does on an older kernel. Refusing a call runs none of its kernel code, so this is as safe as a
 * kill; a call added later that a program needs is added to the allowlist after review. */
enum { NR_FIRST_UNKNOWN = 470, NR_LAST_UNKNOWN = 511 };

/* Scheduling: SCHED_OTHER/BATCH/IDLE (optionally | SCHED_RESET_ON_FORK) are what an unprivileged
 * user may choose; the real-time classes and SCHED_DEADLINE get EPERM, as without CAP_SYS_NICE —
 * whatever RLIMIT_RTPRIO the worker was started with, a job never runs real-time. */
static const scmp_datum_t sched_policy_mask = 0xbfffffff; /* low 32 bits without SCHED_RESET_ON_FORK */
static const int sched_ok[] = {0 /* OTHER */, 3 /* BATCH */, 5 /* IDLE */};
static const int sched_eperm[] = {1 /* FIFO */, 2 /* RR */, 6 /* DEADLINE */};

/* capset can only lower the caller's sets, which are empty in a job; libcap-based programs call
 * it to drop privileges they never had. fchmodat2 is fchmodat with flags (glibc's lchmod). */
static const char *const errno_allowed[] = {"capset", "fchmodat2"};

/* fcntl: every command but the four lock commands runs as is. Those, flock and commands newer than
 * this list reach the default, a notification: the init performs locks on the job's own files
 * (init-locks.c) and answers newer commands EINVAL. Leases and F_NOTIFY are refused by the
 * refinement filter. */
static const int fcntl_ok[] = {F_DUPFD,
                               F_GETFD,
                               F_SETFD,
                               F_GETFL,
                               F_SETFL,
                               F_GETLK,
                               F_SETOWN,
                               F_GETOWN,
                               F_SETSIG,
                               F_GETSIG,
                               F_SETOWN_EX,
                               F_GETOWN_EX,
                               17 /* F_GETOWNER_UIDS */,
                               F_OFD_GETLK,
                               F_SETLEASE,
                               F_GETLEASE,
                               F_NOTIFY,
                               1027 /* F_DUPFD_QUERY */,
                               1028 /* F_CREATED_QUERY */,
                               F_DUPFD_CLOEXEC,
                               F_SETPIPE_SZ,
                               F_GETPIPE_SZ,
                               F_ADD_SEALS,
                               F_GET_SEALS,
                               1035 /* F_GET_RW_HINT */,
                               1036 /* F_SET_RW_HINT */,
                               1037 /* F_GET_FILE_RW_HINT */,
                               1038 /* F_SET_FILE_RW_HINT */};

static int add_rules_by_name(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n,
                             const char **failed) {
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture (stime) */
        int rc = seccomp_rule_add(ctx, action, nr, 0);
        if (rc < 0) {
            *failed = names[i];
            return rc;
        }
    }
    return 0;
}

static int add_errno_policy(scmp_filter_ctx ctx, const char **failed) {
    int rc;
    if ((rc = add_rules_by_name(ctx, SCMP_ACT_ERRNO(EPERM), errno_eperm,
                                sizeof errno_eperm / sizeof *errno_eperm, failed)) < 0 ||
        (rc = add_rules_by_name(ctx, SCMP_ACT_ERRNO(EOPNOTSUPP), errno_enotsup,
                                sizeof errno_enotsup / sizeof *errno_enotsup, failed)) < 0 ||
        (rc = add_rules_by_name(ctx, SCMP_ACT_ALLOW, errno_allowed,
                                sizeof errno_allowed / sizeof *errno_allowed, failed)) < 0)
        return rc;
    *failed = "errno policy: xattr-at numbers";
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EOPNOTSUPP), NR_SETXATTRAT, 0)) < 0 ||
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EOPNOTSUPP), NR_REMOVEXATTRAT, 0)) < 0)
        return rc;
    *failed = "errno policy: ENOSYS numbers";
    for (size_t i = 0; i < sizeof errno_enosys / sizeof *errno_enosys; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), errno_enosys[i], 0)) < 0) return rc;
    for (int nr = NR_FIRST_UNKNOWN; nr <= NR_LAST_UNKNOWN; nr++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0) return rc;
    *failed = "fcntl commands";
    for (size_t i = 0; i < sizeof fcntl_ok / sizeof *fcntl_ok; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, fcntl_ok[i]))) < 0)
            return rc;
    *failed = "errno policy: sched_setscheduler";
    for (size_t i = 0; i < sizeof sched_ok / sizeof *sched_ok; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_setscheduler), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, sched_policy_mask, sched_ok[i]))) < 0)
            return rc;
    for (size_t i = 0; i < sizeof sched_eperm / sizeof *sched_eperm; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sched_setscheduler), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, sched_policy_mask, sched_eperm[i]))) < 0)
            return rc;
    *failed = NULL;
    return 0;
}
/* ---- end of the errno policy ------------------------------------------------------------------ */

static int family_allowed(int family) {
    for (size_t i = 0; i < sizeof socket_families_ok / sizeof *socket_families_ok; i++)
        if (socket_families_ok[i] == family) return 1;
    return 0;
}

static int add_sigxfsz_refinements(scmp_filter_ctx ctx);
static int add_sync_refinements(scmp_filter_ctx ctx);
static int add_shared_cache_refinements(scmp_filter_ctx ctx);

static int add_refinements(scmp_filter_ctx ctx, const char **failed) {
    int rc;
    *failed = "ioctl refinements";
    /* The kernel reads the ioctl command as 32 bits: compare only those, or (junk<<32)|TIOCSTI
     * would slip past an exact compare. */
    const unsigned long ioctls[] = {TIOCSTI, TIOCLINUX};
    for (size_t i = 0; i < 2; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, ioctls[i]))) < 0)
            return rc;
    *failed = "socket refinements";
    for (int family = 0; family <= AF_HIGHEST; family++) {
        if (family_allowed(family)) continue;
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                   SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff, family))) < 0)
            return rc;
    }
    /* Leases and directory notifications on inodes that concurrent jobs share would be a channel
     * between them: refused. Locks (flock, fcntl record locks) go to the init, which performs them
     * on the job's own files only (init-locks.c; the allowlist's fcntl rules). */
    *failed = "lock refinements";
    const unsigned long lock_cmds[] = {F_SETLEASE, F_NOTIFY};
    for (size_t i = 0; i < sizeof lock_cmds / sizeof *lock_cmds; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), 1,
                                   SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, lock_cmds[i]))) < 0)
            return rc;
    *failed = "SIGXFSZ refinements";
    if ((rc = add_sigxfsz_refinements(ctx)) < 0) return rc;
    *failed = "sync refinements";
    if ((rc = add_sync_refinements(ctx)) < 0) return rc;
    *failed = "shared page cache refinements";
    if ((rc = add_shared_cache_refinements(ctx)) < 0) return rc;
    *failed = NULL;
    return 0;
}

/* --- sec lane (issue 9 item 8): no self-made SIGXFSZ ---------------------------------------------
 * SIGXFSZ is the one signal that means a verdict (output_limit: a file reached RLIMIT_FSIZE), and
 * the kernel sends it exactly like kill(getpid(), SIGXFSZ), so the reaper cannot tell the two
 * apart. Instead no job may send SIGXFSZ at all: every call whose argument names the signal to send
 * is refused when that signal is SIGXFSZ (kill/tkill/tgkill, sigqueue, pidfd, a clone's exit
 * signal, fcntl F_SETSIG). Left open: a POSIX timer or mq_notify whose sigevent (in memory,
 * unreadable to seccomp) names SIGXFSZ; see docs/ARCHITECTURE.md, threat model item 8. */
static int add_sigxfsz_refinements(scmp_filter_ctx ctx) {
    const scmp_datum_t sig = SIGXFSZ, low = 0xffffffff;
    /* Each sender and the argument that holds the signal number. */
    const struct {
        int nr;
        unsigned int arg;
        scmp_datum_t mask;
    } senders[] = {{SCMP_SYS(kill), 1, low},
                   {SCMP_SYS(tkill), 1, low},
                   {SCMP_SYS(tgkill), 2, low},
                   {SCMP_SYS(rt_sigqueueinfo), 1, low},
                   {SCMP_SYS(rt_tgsigqueueinfo), 2, low},
                   {SCMP_SYS(pidfd_send_signal), 1, low},
                   {SCMP_SYS(clone), 0, 0xff /* CSIGNAL: the exit signal */}};
    int rc;
    for (size_t i = 0; i < sizeof senders / sizeof *senders; i++) {
        struct scmp_arg_cmp cmp = {senders[i].arg, SCMP_CMP_MASKED_EQ, senders[i].mask, sig};
        if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), senders[i].nr, 1, &cmp)) < 0) return rc;
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), 2,
                            SCMP_A1(SCMP_CMP_MASKED_EQ, low, F_SETSIG),
                            SCMP_A2(SCMP_CMP_MASKED_EQ, low, sig));
}

/* sync() writes back every filesystem of the host and syncfs() a whole host filesystem (the
 * read-only /usr under a bind is still the host's disk): 8,000 calls emptied the host's dirty
 * pages in 1.5 s. A job writes only to tmpfs, where both are no-ops, so they succeed without
 * running (errno 0: the kernel skips the call and returns 0). fsync/fdatasync stay: they flush one
 * file the job may write, which is only ever on tmpfs. */
static int add_sync_refinements(scmp_filter_ctx ctx) {
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(sync), 0);
    return rc < 0 ? rc : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(syncfs), 0);
}

/* The page cache of the shared read-only files (the host's /usr, an image) is shared by every
 * tenant, and so is what inotify reports about them. Neutralised here, where they serve only
 * attacks (issue 9 items 4 and 5):
 *  - evicting pages: fadvise(DONTNEED) and madvise(MADV_PAGEOUT/MADV_COLD) are hints; they succeed
 *    without running, so a job cannot evict others' pages to time or to force their disk reads;
 *  - probing residency: preadv2(RWF_NOWAIT) fails with EOPNOTSUPP, as on files that do not
 *    support it (mincore has reported only the caller's own mappings since Linux 5.0);
 *  - watching others' reads: an inotify watch asking for IN_ACCESS, IN_OPEN or IN_CLOSE_NOWRITE
 *    is refused (EPERM); watches for changes (what build tools and fs.watch use) stay. */
static int add_shared_cache_refinements(scmp_filter_ctx ctx) {
    int rc;
    const scmp_datum_t read_events[] = {IN_ACCESS, IN_OPEN, IN_CLOSE_NOWRITE};
    for (size_t i = 0; i < sizeof read_events / sizeof *read_events; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(inotify_add_watch), 1,
                                   SCMP_A2(SCMP_CMP_MASKED_EQ, read_events[i], read_events[i]))) < 0)
            return rc;
    const scmp_datum_t page_out[] = {MADV_PAGEOUT, MADV_COLD};
    for (size_t i = 0; i < sizeof page_out / sizeof *page_out; i++)
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(madvise), 1,
                                   SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffff, page_out[i]))) < 0)
            return rc;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(fadvise64), 1,
                               SCMP_A3(SCMP_CMP_MASKED_EQ, 0xffffffff, POSIX_FADV_DONTNEED))) < 0)
        return rc;
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EOPNOTSUPP), SCMP_SYS(preadv2), 1,
                            SCMP_A5(SCMP_CMP_MASKED_EQ, RWF_NOWAIT, RWF_NOWAIT));
}
/* --- end of the sec lane's block ----------------------------------------------------------------- */

/* Builds one filter and appends its BPF to fd; returns instructions written or -errno. */
static long export_filter(uint32_t default_action, int (*rules)(scmp_filter_ctx, const char **), int fd,
                          const char **failed) {
    *failed = "seccomp_init";
    scmp_filter_ctx ctx = seccomp_init(default_action);
    if (!ctx) return -ENOMEM;
    off_t before = lseek(fd, 0, SEEK_END);
    /* A binary tree of syscall numbers: attaching costs ~0.17 ms instead of ~0.5 ms. Any other
     * architecture (i386 via int 0x80, x32) is killed outright. */
    long rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) rc = rules(ctx, failed);
    if (rc == 0) {
        *failed = "export";
        rc = seccomp_export_bpf(ctx, fd);
    }
    seccomp_release(ctx);
    if (rc < 0) return rc;
    return (long)((lseek(fd, 0, SEEK_END) - before) / (off_t)sizeof(struct sock_filter));
}

int sb_seccomp_compile(struct sb_seccomp *out, char *err, size_t err_len) {
    const char *failed = "memfd";
    long rc = 0;
    int fd = memfd_create("cellblock-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) rc = -errno;
    /* The ioctl allowlist (seccomp-ioctl.c) runs first, as part of the refinement program. */
    long ioctls = rc < 0 ? rc : sb_seccomp_write_ioctl_prefix(fd);
    if (ioctls < 0) failed = "ioctl allowlist";
    long refine = ioctls < 0 ? ioctls : export_filter(SCMP_ACT_ALLOW, add_refinements, fd, &failed);
    long allow = refine < 0 ? refine : export_filter(SCMP_ACT_NOTIFY, add_allowlist, fd, &failed);
    if (allow >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
        failed = "seal";
        allow = -errno;
    }
    if (allow < 0) {
        if (fd >= 0) close(fd);
        snprintf(err, err_len, "compile seccomp filter (%s): %s", failed, strerror((int)-allow));
        return (int)allow;
    }
    out->fd = fd;
    out->refine_len = (int)(ioctls + refine);
    out->main_len = (int)allow;
    return 0;
}
