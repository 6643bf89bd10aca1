import type { SandboxConfig } from "../config/load-config.ts";
import type { SandboxHostConfig } from "../native/index.ts";

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
export async function openSandbox(sandbox: SandboxConfig, slots: number) {
  const native = await import("../native/index.ts");
  const claim = native.claimUidRange({
    lockDir: sandbox.SANDBOX_LOCK_DIR,
    uidBase: sandbox.SANDBOX_UID_BASE,
    slotOffset: sandbox.SANDBOX_SLOT_OFFSET,
    slots,
  });
  try {
    // Prewarm: each slot prepares its next container while idle (see native/src/slot-runner.h).
    native.configureSandbox({ ...sandboxHostConfig(sandbox, { prewarm: true }), uidBase: claim.uidBase });
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
      whileUnclaimed: (base: number, fn: () => Promise<void>) =>
        native.whileUnclaimed(sandbox.SANDBOX_LOCK_DIR, base, fn),
    };
  } catch (error) {
    claim.release();
    throw error;
  }
}

export type OpenedSandbox = Awaited<ReturnType<typeof openSandbox>>;
