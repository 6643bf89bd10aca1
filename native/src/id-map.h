/*
 * Who writes a container's id maps, and what the worker's own uid allows (docs/CGROUP-V2.md,
 * "Rootless mode"). Set once per process by configure(); read by standby.c.
 *
 *   ROOT    the worker is root: it writes "0 <slot base> <count>" itself, and clones each container
 *           with its euid switched to the slot's first host id (standby.c, clone_as_owner).
 *   SINGLE  rootless, no helpers: the worker (uid U) may map only itself, "0 U 1"; setgroups is
 *           denied in the namespace first, as the kernel requires of an unprivileged gid_map.
 *   SUBID   rootless with ranges from /etc/subuid and /etc/subgid: the setuid helpers newuidmap and
 *           newgidmap (shadow's uidmap package) write the slot's range, checked against U's ranges.
 */
#ifndef CELLBLOCK_ID_MAP_H
#define CELLBLOCK_ID_MAP_H

#include "supervise.h"

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sb_id_map_mode { SB_IDMAP_ROOT, SB_IDMAP_SINGLE, SB_IDMAP_SUBID };

/* helper paths are used in SUBID mode only (absolute; may be NULL otherwise). 0 or -EINVAL. */
int sb_id_map_configure(enum sb_id_map_mode mode, const char *newuidmap, const char *newgidmap);
enum sb_id_map_mode sb_id_map_mode(void);

/* Writes pid's uid_map and gid_map for ids as the configured mode does; 0, or -errno with err
 * naming what failed (a helper's own message included). */
int sb_write_id_maps(pid_t pid, const struct sb_ids *ids, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
