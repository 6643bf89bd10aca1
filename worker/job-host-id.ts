import { jobHostId } from "../contract/sandbox-identity.ts";

// The host uid (= gid) that work dirs are chowned to: the uid the slot's job runs as on the host,
// jobHostId(uidBase, slot), the slot's own id. A rootless worker in single-id mode runs every
// slot's job as its own uid and gid, so the files it creates already belong to the job and are
// left as they are: KEEP_OWNER (-1, chown's "unchanged"). Set once per process when the sandbox
// is configured (sandbox-host.ts), as the sandbox host itself is once per process.

/** chown's id for "leave it": the files stay the worker's, who is the job in single-id mode. */
export const KEEP_OWNER = -1;

let keepOwner = false;

/** Called with the configured sandbox's id mode. */
export function useJobHostIds(mode: "root" | "subid" | "single"): void {
  keepOwner = mode === "single";
}

/** The id to chown a slot's work files to, for the worker whose slot 0 starts at `uidBase`. */
export function slotJobHostId(uidBase: number, slot: number): number {
  return keepOwner ? KEEP_OWNER : jobHostId(uidBase, slot);
}
