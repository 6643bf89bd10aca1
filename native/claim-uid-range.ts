// Claiming a worker's uid range, so that two workers on one host never share a host uid. Sharing
// one would share the kernel's per-user counters (pipe pages, inotify instances, queued signals)
// and let one tenant's job signal or ptrace-check another's processes.
//
// Each slot's id block (contract/sandbox-identity.ts) has a lock file, `ids-<first host id>.lock`
// in the lock dir; a worker holds an exclusive flock on the file of each of its slots for its whole
// life. flock, not a pid file: the kernel drops it when the holder dies however it dies, so a
// crashed worker's range is free again at once and there is no stale state to judge. A worker
// whose configured range is taken moves up one slot block at a time until it finds WORKER_SLOTS
// free blocks in a row, so several workers started with the same SANDBOX_SLOT_OFFSET just work.
// The sandbox host is per process (configureSandbox), so a second worker in the same process
// shares the first one's claim, as it shares its host configuration.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { slotIdBase, workerUidBase } from "../contract/sandbox-identity.ts";
import { tryLockFile } from "./host-files.ts";

/** How many slot blocks above its configured range a worker looks for a free one. */
export const MAX_UID_RANGE_SHIFT = 256;

export interface UidRangeRequest {
  /** Directory of the lock files: host-wide, on a filesystem every worker of the host sees. */
  lockDir: string;
  /** SANDBOX_UID_BASE and SANDBOX_SLOT_OFFSET: where the search starts. */
  uidBase: number;
  slotOffset: number;
  slots: number;
}

export interface UidRangeClaim {
  /** First host id of the claimed slot 0. */
  uidBase: number;
  /** The first host id of every claimed slot. */
  slotBases: number[];
  /** False when this process already held the range (another worker in it shares the claim). */
  fresh: boolean;
  release(): void;
}

/** The lock file of the slot block starting at host id `base`. */
export function uidLockFile(lockDir: string, base: number): string {
  return join(lockDir, `ids-${base}.lock`);
}

let held: { key: string; claim: UidRangeClaim; users: number } | null = null;

export function claimUidRange(req: UidRangeRequest): UidRangeClaim {
  const key = JSON.stringify([req.lockDir, req.uidBase, req.slotOffset, req.slots]);
  if (held && held.key !== key)
    throw new Error(
      "claim uid range: this process already holds a different range (one sandbox host per process)",
    );
  if (!held) held = { key, claim: claimFreeRange(req), users: 0 };
  const entry = held;
  entry.users++;
  let released = false;
  return {
    ...entry.claim,
    fresh: entry.users === 1,
    release: () => {
      if (released) return;
      released = true;
      if (--entry.users === 0) {
        entry.claim.release();
        held = null;
      }
    },
  };
}

function claimFreeRange(req: UidRangeRequest): UidRangeClaim {
  // 0755, not 0700: the default lock dir (/run/cellblock) is also the parent of the new-root mount
  // point, which each container's setup child (a slot id) must be able to search. Only its owner
  // can create or remove lock files in it either way, and the lock files themselves are 0600.
  mkdirSync(req.lockDir, { recursive: true, mode: 0o755 });
  for (let shift = 0; shift <= MAX_UID_RANGE_SHIFT; shift++) {
    const uidBase = workerUidBase(req.uidBase, req.slotOffset + shift);
    const slotBases = Array.from({ length: req.slots }, (_, slot) => slotIdBase(uidBase, slot));
    const releases: (() => void)[] = [];
    for (const base of slotBases) {
      const release = tryLockFile(uidLockFile(req.lockDir, base));
      if (!release) break;
      releases.push(release);
    }
    if (releases.length === slotBases.length) {
      return { uidBase, slotBases, fresh: true, release: () => releaseAll(releases) };
    }
    releaseAll(releases);
  }
  throw new Error(
    `claim uid range: no ${req.slots} free slot blocks within ${MAX_UID_RANGE_SHIFT} above slot offset ${req.slotOffset} (locks in ${req.lockDir}; too many workers on this host?)`,
  );
}

function releaseAll(releases: (() => void)[]): void {
  for (const release of releases) release();
}

/**
 * Runs `fn` while holding the slot block at `base` when no live worker holds it (its owner is
 * dead): how a starting worker knows which leftover work dirs it may remove. Returns whether it ran.
 */
export async function whileUnclaimed(
  lockDir: string,
  base: number,
  fn: () => Promise<void>,
): Promise<boolean> {
  if (held?.claim.slotBases.includes(base)) return false;
  const release = tryLockFile(uidLockFile(lockDir, base));
  if (!release) return false;
  try {
    await fn();
    return true;
  } finally {
    release();
  }
}
