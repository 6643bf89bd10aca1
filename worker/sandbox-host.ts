import path from "node:path";
import type { SandboxConfig } from "../config/load-config.ts";
import type { SandboxHostConfig } from "../native/index.ts";
import { useJobHostIds } from "./job-host-id.ts";

// The sandbox of one worker process: configured once from the SANDBOX_* settings (this worker's
// uid range, our cgroup parent, prewarm on), then proven by a self-check; a worker whose sandbox
// does not work refuses to start rather than fail every job. The addon is imported here, lazily,
// so that loading the worker's modules (app/start.ts) costs nothing until a worker starts.

/** The host configuration of the sandbox from the SANDBOX_* / CELLBLOCK_* settings. */
export function sandboxHostConfig(
  sandbox: SandboxConfig,
  options: { prewarm: boolean },
): Partial<SandboxHostConfig> {
  return {
    uidBase: sandbox.uidBase,
    prewarm: options.prewarm,
    idMap: sandbox.SANDBOX_ID_MAP, // read only by a rootless worker
    ...(sandbox.SANDBOX_CGROUP_PARENT ? { cgroupParent: sandbox.SANDBOX_CGROUP_PARENT } : {}),
    ...(sandbox.CELLBLOCK_CGROUP_ROOT ? { cgroupRoot: sandbox.CELLBLOCK_CGROUP_ROOT } : {}),
    // CELLBLOCK_TRACE: one timing line per run on stderr.
    trace: sandbox.CELLBLOCK_TRACE,
    io: {
      readBps: sandbox.SANDBOX_IO_READ_BPS,
      writeBps: sandbox.SANDBOX_IO_WRITE_BPS,
      readIops: sandbox.SANDBOX_IO_READ_IOPS,
      writeIops: sandbox.SANDBOX_IO_WRITE_IOPS,
    },
  };
}

/**
 * Claims this worker's uid range (native/claim-uid-range.ts: the configured one, or the next free
 * one when another live worker on the host holds it), configures the sandbox with it and proves it.
 */
export async function openSandbox(sandbox: SandboxConfig, slots: number, workRoot: string) {
  const native = await import("../native/index.ts");
  const rootless = (process.getuid?.() ?? 0) !== 0;
  if (rootless && sandbox.SANDBOX_ID_MAP !== "single") throw new Error(ROOTLESS_SUBID_REFUSAL);
  const lockDir = sandboxLockDir(sandbox, workRoot, rootless);
  const claim = native.claimUidRange({
    lockDir,
    uidBase: sandbox.SANDBOX_UID_BASE,
    slotOffset: sandbox.SANDBOX_SLOT_OFFSET,
    slots,
  });
  try {
    // Prewarm: each slot prepares its next container while idle (see native/src/slot-runner.h).
    const { ids } = native.configureSandbox({
      ...sandboxHostConfig(sandbox, { prewarm: true }),
      uidBase: claim.uidBase,
    });
    // Who owns a slot's work dirs: the slot's job uid as root; a single-id rootless worker's jobs
    // run as the worker's own uid, so its files need no chown (job-host-id.ts).
    useJobHostIds(ids.mode);
    const selfCheck = await native.selfCheck();
    if (!selfCheck.ok) throw new Error(`start worker: sandbox self-check failed: ${selfCheck.detail}`);
    return {
      // runStep: runSandbox, or a live run for an interactive job's run step.
      runSandbox: native.runStep,
      releaseStandbys: native.releaseStandbys,
      selfCheck,
      uidBase: claim.uidBase,
      uidClaim: claim,
      /** Runs fn holding a dead worker's slot block, if no live worker holds it (work root sweep). */
      whileUnclaimed: (base: number, fn: () => Promise<void>) => native.whileUnclaimed(lockDir, base, fn),
    };
  } catch (error) {
    claim.release();
    throw error;
  }
}

/**
 * Why a rootless worker refuses subid mode: its jobs run as subordinate ids the worker cannot
 * chown to, and the files a job creates in its work dir (owned by such an id, in dirs of the
 * job's making) could not be removed by the worker afterwards.
 */
export const ROOTLESS_SUBID_REFUSAL =
  "start worker: a rootless worker (uid ≠ 0) runs with SANDBOX_ID_MAP=single only: in subid mode " +
  "its jobs run as subordinate ids, and the worker could not remove the files they write in their " +
  'work dirs (docs/CGROUP-V2.md, "Rootless worker"); set SANDBOX_ID_MAP=single, or run the worker as root';

/** The uid-range lock dir: as configured, else /run/cellblock as root and under the work root rootless. */
export function sandboxLockDir(sandbox: SandboxConfig, workRoot: string, rootless: boolean): string {
  return sandbox.SANDBOX_LOCK_DIR ?? (rootless ? path.join(workRoot, ".locks") : "/run/cellblock");
}

export type OpenedSandbox = Awaited<ReturnType<typeof openSandbox>>;
