// One SandboxSpec as the addon's run request: the spec unpacked to plain values, plus the policy
// the addon applies without deciding it: the slot's ids (contract/sandbox-identity.ts), the
// program's rlimits and the cgroup's pids.max. Pure, so it is unit-tested without a sandbox.
import { IDS_PER_SLOT, JOB_GID, JOB_UID, slotIdBase } from "../contract/sandbox-identity.ts";
import type { NativeRlimit, NativeRunSpec, RlimitResource } from "./addon.ts";
import { type IdLayout, slotIds } from "./rootless.ts";
import type { SandboxLimits, SandboxSpec } from "./types.ts";

/** RLIMIT_CPU kills at the CPU limit's whole seconds plus this, i.e. at least 1 s after it. */
export const RLIMIT_CPU_MARGIN_S = 2;
/**
 * RLIMIT_MSGQUEUE: Linux's own default, 800 KiB. 64 KiB refused every mq_open with the default
 * attributes (10 messages of 8 KiB, ~81 KiB each: EMFILE), which is how most programs open a
 * queue. The budget is the slot's own (the user namespace belongs to the slot's uid, issue 9 item
 * 2), the messages are charged to the job's memory cgroup, and the queues die with the job's IPC
 * namespace, so the default pins nothing beyond the job's own limits.
 */
export const MSGQUEUE_BYTES = 819_200;
/**
 * RLIMIT_SIGPENDING: queued signals are kernel memory, charged per user up the user namespaces;
 * a job queueing ~96k realtime signals made sigqueue fail for the host. 1,024 is far above what
 * runtimes queue (standard signals coalesce and do not count).
 */
export const SIGPENDING_SIGNALS = 1024;
/** RLIMIT_MEMLOCK: locked memory is a per-user budget too; 64 KiB is Linux's historical default. */
export const MEMLOCK_BYTES = 65_536;

/** The payload's rlimits, set in this order (soft = hard: the job cannot raise them). */
export function rlimitsFor(limits: SandboxLimits): NativeRlimit[] {
  const fixed = (resource: RlimitResource, value: number): NativeRlimit => ({
    resource,
    soft: value,
    hard: value,
  });
  return [
    fixed("core", 0),
    fixed("fsize", limits.fileSizeBytes),
    fixed("nofile", limits.openFiles),
    fixed("stack", limits.stackBytes),
    // A backstop only: the supervisor's watch of the cgroup's CPU counter stops the job first.
    fixed("cpu", Math.floor(limits.cpuTimeMs / 1000) + RLIMIT_CPU_MARGIN_S),
    fixed("msgqueue", MSGQUEUE_BYTES),
    fixed("sigpending", SIGPENDING_SIGNALS),
    fixed("memlock", MEMLOCK_BYTES),
    // Tasks of the job's uid in its namespace: a backstop one above the pids cgroup, which stays
    // the limit that binds (and is reported as pidsLimitHit).
    fixed("nproc", limits.pids + 1),
  ];
}

/**
 * The addon's request for spec on a host whose slot 0 starts at uidBase; a rootless host passes
 * its id layout instead (native/rootless.ts).
 */
export function buildNativeSpec(spec: SandboxSpec, uidBase: number, layout?: IdLayout): NativeRunSpec {
  const l = spec.limits;
  return {
    rootfsKind: spec.rootfs.kind,
    rootfsPath: spec.rootfs.kind === "image" ? spec.rootfs.path : "",
    binds: spec.binds,
    tmpfsBytes: l.tmpfsBytes,
    argv: spec.argv,
    env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    cwd: spec.cwd,
    stdin: spec.stdin,
    cpuTimeMs: l.cpuTimeMs,
    wallTimeMs: l.wallTimeMs,
    memoryBytes: l.memoryBytes,
    // PID 1 (cellblock-init) is one of the group's tasks: the job gets the whole count it asked for.
    pidsMax: l.pids + 1,
    outputBytes: l.outputBytes,
    cpuQuotaPercent: l.cpuQuotaPercent,
    // Single-id mode: PID 1 runs as the job's uid too, and RLIMIT_NPROC counts it, so the backstop
    // moves one up to stay above the pids cgroup (which must be the limit that binds).
    rlimits: rlimitsFor(l).map((r) =>
      r.resource === "nproc" && layout?.mode === "single" ? { ...r, soft: r.soft + 1, hard: r.hard + 1 } : r,
    ),
    slot: spec.runner ?? spec.slot,
    ...(layout && layout.mode !== "root"
      ? slotIds(layout, spec.slot)
      : {
          hostIdBase: slotIdBase(uidBase, spec.slot),
          idCount: IDS_PER_SLOT,
          jobUid: JOB_UID,
          jobGid: JOB_GID,
        }),
  };
}
