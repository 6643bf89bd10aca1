/*
 * clone3() with CLONE_INTO_CGROUP (Linux 5.7+, cgroup v2 only): the setup child is born in its
 * run group. Without it the child starts in the worker's group and is moved by a write to
 * cgroup.procs, and a migration takes cgroup_threadgroup_rwsem for writing: it waits for an RCU
 * grace period (unless cgroup2 is mounted with favordynmods) and stalls every fork and exit on the
 * host meanwhile. Born in the group, the child is also never charged to the worker's group, not
 * even for the instant before the move.
 *
 * glibc has no clone3() wrapper that runs a function on a new stack, so this is a small trampoline
 * in assembly: the child returns from the syscall on its new, empty stack, where no C frame of
 * ours exists, and must call fn(arg) and exit without returning. x86_64 only for now; elsewhere,
 * and on kernels without clone3 or its cgroup field, the caller clones and migrates as before.
 */
#define _GNU_SOURCE
#include "clone-into-cgroup.h"

#include <errno.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/syscall.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Set once a kernel has told us it has no clone3 or no CLONE_INTO_CGROUP; every later clone goes
 * straight to the migration path. */
static int unavailable;

#if defined(__x86_64__)
static long clone3_on_stack(struct clone_args *args, size_t size, int (*fn)(void *), void *arg) {
    register long rax __asm__("rax") = SYS_clone3;
    register struct clone_args *rdi __asm__("rdi") = args;
    register size_t rsi __asm__("rsi") = size;
    /* Callee-saved registers survive the syscall in the child, which has nothing else. */
    register int (*r12)(void *) __asm__("r12") = fn;
    register void *r13 __asm__("r13") = arg;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     /* The child: the kernel set rsp to the top of its stack (16-byte aligned, as
                      * a call expects); no frame to return to, so fn's status goes to exit. */
                     "xor %%ebp, %%ebp\n\t"
                     "mov %%r13, %%rdi\n\t"
                     "call *%%r12\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov %[nr_exit], %%eax\n\t"
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "+r"(rax)
                     : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13), [nr_exit] "i"(SYS_exit)
                     : "rcx", "r11", "memory", "cc");
    return rax;
}
#endif

pid_t sb_clone_into_cgroup(int (*fn)(void *), void *arg, char *stack, size_t stack_size, uint64_t flags,
                           int cgroup_fd, int *pidfd) {
#if defined(__x86_64__)
    if (__atomic_load_n(&unavailable, __ATOMIC_RELAXED)) return -ENOSYS;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_INTO_CGROUP;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = 0; /* no SIGCHLD into Node */
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = stack_size;
    args.cgroup = (uint64_t)cgroup_fd;
    long rc = clone3_on_stack(&args, sizeof args, fn, arg);
    /* ENOSYS: no clone3 (before 5.3). E2BIG: clone3 without the cgroup field (5.3 to 5.6). */
    if (rc == -ENOSYS || rc == -E2BIG) {
        __atomic_store_n(&unavailable, 1, __ATOMIC_RELAXED);
        return -ENOSYS;
    }
    return (pid_t)rc;
#else
    (void)fn, (void)arg, (void)stack, (void)stack_size, (void)flags, (void)cgroup_fd, (void)pidfd;
    return -ENOSYS;
#endif
}
