/*
 * sysinfo(2) answered by cellblock-init. The kernel's answer carries the host's load averages and
 * its whole task count — what the masked /proc/loadavg hides (glibc's getloadavg() is built on
 * this call). Refusing the call would break sysconf(_SC_PHYS_PAGES), which glibc computes from it
 * and which JVMs, GHC's RTS and GCC use to size their heaps. So the filter sends it to the init,
 * which makes the call itself, replaces the host-wide figures (loads 0, procs 1) and writes the
 * struct into the caller's buffer. Uptime and the memory figures stay: /proc/uptime and
 * /proc/meminfo show the same to every job.
 *
 * Runs in the init: raw syscalls only, no libc, static memory.
 */
#define _GNU_SOURCE
#include "init-locks.h"

#include "syscalls.h"

#include <linux/sysinfo.h>
#include <sys/uio.h>

void *memset(void *d, int c, size_t n);

int sb_sysinfo_handles(const struct seccomp_notif *n) {
    return n->data.nr == SYS_sysinfo;
}

void sb_sysinfo_handle(int listener, const struct seccomp_notif *n) {
    struct sysinfo info;
    memset(&info, 0, sizeof info);
    long r = SB_SYS1(SYS_sysinfo, &info);
    if (r == 0) {
        info.loads[0] = info.loads[1] = info.loads[2] = 0;
        info.procs = 1;
        /* The caller must still be the one that asked (its pid not reused) before we write. */
        __u64 id = n->id;
        if (SB_SYS3(SYS_ioctl, listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return;
        struct iovec local = {&info, sizeof info}, remote = {(void *)n->data.args[0], sizeof info};
        if (sb_sys6(SYS_process_vm_writev, n->pid, (long)&local, 1, (long)&remote, 1, 0) != (long)sizeof info)
            r = -14; /* EFAULT, as the kernel answers a bad buffer */
    }
    sb_notif_respond(listener, n->id, r);
}
