/*
 * The ioctl allowlist. ioctl is a second syscall table: FIEMAP gives the physical disk offsets of
 * host files, FS_IOC_GETFSUUID and FS_IOC_GETFSSYSFSPATH name the host's disk, and every driver
 * adds its own. A job needs only the terminal ioctls (isatty, window size, termios), the generic
 * descriptor ones (FIONREAD, FIONBIO, FIOCLEX: libuv and Rust's std use them) and the socket
 * queries; every other command fails with ENOTTY, which is what the kernel answers for a command
 * the object does not support, so runtimes already fall back on it.
 *
 * libseccomp 2.5 cannot say "ioctl with any other command" (no two comparisons of one argument in
 * a rule, and a rule per excluded range would not fit), so this is a few lines of classic BPF,
 * written in front of the libseccomp refinement filter in the same program: for ioctl it returns
 * ALLOW or ERRNO(ENOTTY) itself; for anything else (or a foreign architecture, which the
 * allowlist kills) it falls through to the refinement filter, whose jumps are all relative.
 * The command is compared as the low 32 bits, which is how the kernel reads it (CVE-2019-10063).
 */
#define _GNU_SOURCE
#include "seccomp-ioctl.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* Both supported architectures are little-endian: the low half of args[1] comes first. */
#define ARG1_LOW (offsetof(struct seccomp_data, args) + sizeof(__u64))

static const __u32 allowed_ioctls[] = {
    /* terminal: on the job's pipes these fail with ENOTTY from the kernel anyway */
    TCGETS, TCSETS, TCSETSW, TCSETSF, TCGETA, TCSETA, TCSETAW, TCSETAF, TCSBRK, TCXONC, TCFLSH, TIOCGPGRP,
    TIOCSPGRP, TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ, TIOCGSID, TIOCNOTTY, TCSBRKP,
    0x802c542a, /* TCGETS2 (_IOR('T', 0x2A, struct termios2)): glibc 2.42's tcgetattr */
    0x402c542b, 0x402c542c, 0x402c542d, /* TCSETS2, TCSETSW2, TCSETSF2 */
    /* descriptors */
    FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, FIOQSIZE, 0x2 /* FIGETBSZ */,
    /* sockets: queries only (the network namespace has nothing but a down loopback) */
    SIOCATMARK, SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFMTU,
    SIOCGIFHWADDR, SIOCGIFINDEX, SIOCOUTQNSD};

enum { N_ALLOWED = sizeof allowed_ioctls / sizeof *allowed_ioctls };

long sb_seccomp_write_ioctl_prefix(int fd) {
    /* 5 instructions of dispatch, one compare per command, the two returns. */
    enum { HEAD = 5, LEN = HEAD + N_ALLOWED + 2 };
    struct sock_filter prog[LEN];
    int i = 0;
    const __u8 to_next = LEN - 2; /* from instruction 1: past the prefix */
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_AUDIT_ARCH, 0, to_next);
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, (__u8)(to_next - 2));
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1_LOW);
    for (int k = 0; k < N_ALLOWED; k++) /* a match jumps to the ALLOW return, the last instruction */
        prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed_ioctls[k],
                                                 (__u8)(N_ALLOWED - k), 0);
    prog[i++] =
        (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOTTY & SECCOMP_RET_DATA));
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (write(fd, prog, sizeof prog) != (ssize_t)sizeof prog) return -errno;
    return i;
}
