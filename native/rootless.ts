// Rootless mode: a worker that is not root (docs/CGROUP-V2.md, "Rootless mode"). It is detected
// from the uid, not switched on: a worker whose uid is not 0 is rootless. Whoever creates a user
// namespace without privilege may map only their own uid and gid; anything more takes the setuid
// helpers newuidmap/newgidmap (shadow's `uidmap` package) and a range of ids given to the user in
// /etc/subuid and /etc/subgid. So a rootless worker maps ids one of two ways:
//
//   subid   (the default) each slot maps its own IDS_PER_SLOT ids out of the worker's ranges, as
//           root mode does out of SANDBOX_UID_BASE: the per-slot host uid survives. The ranges must
//           start at the same id for uids and gids and hold IDS_PER_SLOT ids per slot used.
//   single  (chosen with idMap: "single", SANDBOX_ID_MAP=single) inside id 0 is the worker's own
//           uid and gid and nothing else is mapped: every slot's job runs as the worker's host
//           identity (PID namespaces still keep slots apart), as uid 0 inside without capabilities.
//
// Pure over a read-only view of the host, so every missing piece is unit-tested from fixture text.
import { IDS_PER_SLOT, JOB_GID, JOB_UID } from "../contract/sandbox-identity.ts";

/** How a container's id maps are written (native/src/id-map.h). */
export type IdMapMode = "root" | "single" | "subid";

/** What a rootless worker asks for: its ids from subuid ranges (default) or a single id. */
export type RootlessIdMap = "subid" | "single";

/** Where the helpers are looked for (not PATH: a setuid helper is found where the package puts it). */
export const ID_MAP_HELPER_DIRS = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"];

export interface RootlessView {
  read(path: string): string | undefined;
  /** Whether path exists and we may execute it. */
  executable(path: string): boolean;
  /** Whether we may write path. */
  writable(path: string): boolean;
  uid: number;
  gid: number;
  /** The worker user's name, when the passwd database has one. */
  userName: string | undefined;
}

/** The id layout the sandbox runs with; `uidBase` is slot 0's first host id in root and subid mode. */
export interface IdLayout {
  mode: IdMapMode;
  uidBase: number;
  /** subid: how many slots the ranges hold (IDS_PER_SLOT each). */
  slots?: number;
  newuidmap?: string;
  newgidmap?: string;
  /** single: the worker's own ids. */
  uid?: number;
  gid?: number;
}

export interface IdLayoutProblem {
  name: string;
  problem: string;
  fix: string;
}

/** The first range of /etc/subuid-style text for the user (by name or uid): [start, count]. */
export function subidRange(
  text: string | undefined,
  user: string | undefined,
  id: number,
): [number, number] | undefined {
  for (const line of (text ?? "").split("\n")) {
    const [owner, start, count] = line.trim().split(":");
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== String(id) && owner !== user) continue;
    const [s, c] = [Number(start), Number(count)];
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && s > 0 && c > 0) return [s, c];
  }
  return undefined;
}

function findHelper(view: RootlessView, name: string): string | undefined {
  return ID_MAP_HELPER_DIRS.map((dir) => `${dir}/${name}`).find((p) => view.executable(p));
}

const SINGLE_FIX =
  "or choose single-id mode (SANDBOX_ID_MAP=single: every slot's job then runs as the worker's own host uid)";

/**
 * The id layout of a rootless worker, or what is missing for the one asked for. `uidBase` (root
 * mode's SANDBOX_UID_BASE) is not used: a rootless worker's ids are the ones it was given.
 */
export function rootlessIdLayout(
  view: RootlessView,
  wanted: RootlessIdMap,
): { layout: IdLayout; missing: [] } | { layout: undefined; missing: IdLayoutProblem[] } {
  if (wanted === "single")
    return { layout: { mode: "single", uidBase: view.uid, uid: view.uid, gid: view.gid }, missing: [] };
  const who = view.userName ?? `uid ${view.uid}`;
  const missing: IdLayoutProblem[] = [];
  const newuidmap = findHelper(view, "newuidmap");
  const newgidmap = findHelper(view, "newgidmap");
  if (!newuidmap || !newgidmap)
    missing.push({
      name: "id-map-helpers",
      problem: `newuidmap/newgidmap not found in ${ID_MAP_HELPER_DIRS.join(", ")} (each slot maps its own range of ids)`,
      fix: `install them (Debian/Ubuntu: apt-get install uidmap; Fedora: shadow-utils), ${SINGLE_FIX}`,
    });
  // The helpers look the calling user up by name and refuse a uid without a passwd entry.
  if (view.userName === undefined)
    missing.push({
      name: "user-name",
      problem: `uid ${view.uid} has no passwd entry, and newuidmap/newgidmap look the user up by name`,
      fix: `add the user to the passwd database (useradd), ${SINGLE_FIX}`,
    });
  const uids = subidRange(view.read("/etc/subuid"), view.userName, view.uid);
  const gids = subidRange(view.read("/etc/subgid"), view.userName, view.gid);
  const need = IDS_PER_SLOT;
  const add = `usermod --add-subuids 1000000-1999999 --add-subgids 1000000-1999999 ${view.userName ?? "<user>"}`;
  if (!uids || !gids)
    missing.push({
      name: "subid-ranges",
      problem: `${who} has no range in ${[!uids && "/etc/subuid", !gids && "/etc/subgid"].filter(Boolean).join(" and ")}`,
      fix: `give it ${need} ids per slot in both (as root: ${add}), ${SINGLE_FIX}`,
    });
  else if (uids[0] !== gids[0] || Math.min(uids[1], gids[1]) < need)
    missing.push({
      name: "subid-ranges",
      problem: `${who}'s ranges (subuid ${uids.join("+")}, subgid ${gids.join("+")}) must start at the same id and hold at least ${need} ids (one slot)`,
      fix: `give it matching ranges of ${need} ids per slot (as root: ${add}), ${SINGLE_FIX}`,
    });
  if (missing.length > 0 || !uids || !gids || !newuidmap || !newgidmap) return { layout: undefined, missing };
  const slots = Math.floor(Math.min(uids[1], gids[1]) / need);
  return { layout: { mode: "subid", uidBase: uids[0], slots, newuidmap, newgidmap }, missing: [] };
}

/** The addon's id fields of one run in a slot. */
export function slotIds(
  layout: IdLayout,
  slot: number,
): { hostIdBase: number; idCount: number; jobUid: number; jobGid: number } {
  if (layout.mode === "single") return { hostIdBase: layout.uid ?? 0, idCount: 1, jobUid: 0, jobGid: 0 };
  if (layout.slots !== undefined && slot >= layout.slots)
    throw new Error(
      `rootless sandbox: slot ${slot} is beyond the worker's subuid/subgid ranges (${layout.slots} slots of ${IDS_PER_SLOT} ids)`,
    );
  return {
    hostIdBase: layout.uidBase + slot * IDS_PER_SLOT,
    idCount: IDS_PER_SLOT,
    jobUid: JOB_UID,
    jobGid: JOB_GID,
  };
}

/** The host uid (= gid in root and subid mode) a slot's job runs as: owner of its writable binds. */
export function layoutJobHostId(layout: IdLayout, slot: number): number {
  const ids = slotIds(layout, slot);
  return ids.hostIdBase + ids.jobUid;
}

/**
 * What a rootless worker needs of its cgroup v2 root: to create groups there and move processes
 * (systemd's Delegate=yes chowns exactly these to the service's user).
 */
export function missingDelegation(view: RootlessView, cgroupV2Root: string | undefined): IdLayoutProblem[] {
  if (cgroupV2Root === undefined)
    return [
      {
        name: "cgroup-delegation",
        problem: "a worker that is not root needs cgroup v2 (a v1 hierarchy cannot be delegated to it)",
        fix: "boot with systemd.unified_cgroup_hierarchy=1 (the default on current distributions), or run the worker as root",
      },
    ];
  const files = [cgroupV2Root, `${cgroupV2Root}/cgroup.procs`, `${cgroupV2Root}/cgroup.subtree_control`];
  const denied = files.filter((f) => !view.writable(f));
  if (denied.length === 0) return [];
  return [
    {
      name: "cgroup-delegation",
      problem: `uid ${view.uid} cannot write ${denied.join(", ")}: the cgroup subtree is not delegated to the worker`,
      fix:
        "run the worker in a delegated subtree (systemd: Delegate=yes on its unit, or systemd-run --user -p Delegate=yes; " +
        "as root: chown the group and its cgroup.procs, cgroup.subtree_control, cgroup.threads to the user) and point CELLBLOCK_CGROUP_ROOT at it",
    },
  ];
}
