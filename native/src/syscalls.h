/*
 * Raw system calls for code that runs after clone() in a child sharing the parent's memory.
 *
 * The container's init and payload are CLONE_VM children of a thread of the Node process: they
 * share its address space and its thread-local storage until execve. glibc wrappers write errno
 * (TLS of the cloning thread, which is still running) and some take locks or broadcast to all
 * threads (setresuid's setxid). These wrappers issue the syscall instruction directly and return
 * -errno on failure, touching no memory but the caller's stack.
 */
#ifndef CELLBLOCK_SYSCALLS_H
#define CELLBLOCK_SYSCALLS_H

#include <stddef.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long sb_sys6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long sb_sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#else
#error "cellblock's sandbox supports x86_64 and aarch64"
#endif

#define SB_SYS0(n) sb_sys6((n), 0, 0, 0, 0, 0, 0)
#define SB_SYS1(n, a) sb_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define SB_SYS2(n, a, b) sb_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SB_SYS3(n, a, b, c) sb_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SB_SYS4(n, a, b, c, d) sb_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SB_SYS5(n, a, b, c, d, e) sb_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SB_SYS6(n, a, b, c, d, e, f)                                                                         \
    sb_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Never returns. exit_group ends only the calling task's thread group: the CLONE_VM child is its
 * own thread group, so the Node process is unaffected. */
static inline __attribute__((noreturn)) void sb_exit(int code) {
    for (;;)
        SB_SYS1(SYS_exit_group, code);
}

static inline size_t sb_strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

#endif
