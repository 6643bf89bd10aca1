// Who a job is, on the host and inside its container: the one definition of the id layout that the
// worker (work dirs, chown), the sandbox front (id maps) and the native code (passed in the spec)
// all use. Nothing else spells these numbers.
//
// Each worker slot owns IDS_PER_SLOT consecutive host ids, starting at
//   slotIdBase = uidBase + slot · IDS_PER_SLOT,
// mapped to ids 0..IDS_PER_SLOT-1 inside the slot's containers (uid and gid alike). The job's
// program runs as JOB_UID/JOB_GID inside, i.e. as host id slotIdBase + JOB_UID. Two slots, and two
// workers whose uid bases are IDS_PER_SLOT·slots apart, never share a host id.

/** Host ids (uid and gid) each slot owns; also the size of the container's id map. */
export const IDS_PER_SLOT = 65_536;
/** uid of the job's program inside its container. */
export const JOB_UID = 1000;
/** gid of the job's program inside its container. */
export const JOB_GID = 1000;
/** The default first host id of slot 0 (SANDBOX_UID_BASE). */
export const DEFAULT_UID_BASE = 200_000;

/** First host id of a slot: inside id 0 maps here. */
export function slotIdBase(uidBase: number, slot: number): number {
  return uidBase + slot * IDS_PER_SLOT;
}

/** Host uid (= gid) the job's JOB_UID maps to in a slot: owner of the job's writable work dir. */
export function jobHostId(uidBase: number, slot: number): number {
  return slotIdBase(uidBase, slot) + JOB_UID;
}

/** The uid base of the k-th worker on a host whose workers each run `slotsPerWorker` slots apart. */
export function workerUidBase(uidBase: number, slotOffset: number): number {
  return uidBase + slotOffset * IDS_PER_SLOT;
}
