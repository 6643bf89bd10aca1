#ifndef CELLBLOCK_INIT_LOCKS_H
#define CELLBLOCK_INIT_LOCKS_H

#include <linux/ioctl.h>
#include <linux/seccomp.h>

/* File locks brokered by cellblock-init (init-locks.c). */

/* Records which mounts are the job's own (/tmp, /dev/shm, the working directory's). */
void sb_locks_init(const char *cwd);
/* Whether the notification is a lock call (fcntl or flock) for the broker to answer. */
int sb_locks_handles(const struct seccomp_notif *n);
/* Answers a lock call: performs it on the job's own files, refuses it on shared ones, or keeps a
 * blocking request pending. */
void sb_locks_handle(int listener, const struct seccomp_notif *n);
/* Retries the pending blocking requests; returns how many are still pending. */
int sb_locks_retry(int listener);
/* Answers a notified call with a result (>= 0) or an error (-errno). */
void sb_notif_respond(int listener, __u64 id, long result);

/* sysinfo(2) answered without the host's load and task count (init-sysinfo.c). */
int sb_sysinfo_handles(const struct seccomp_notif *n);
void sb_sysinfo_handle(int listener, const struct seccomp_notif *n);

#endif
