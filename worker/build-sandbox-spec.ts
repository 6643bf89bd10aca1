import type { SandboxConfig } from "../config/load-config.ts";
import type { Language } from "../contract/language.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { BOX_DIR, stepEnvironment } from "../contract/step-environment.ts";
import type { BindSpec, RootfsSpec, SandboxLimits, SandboxSpec } from "../native/types.ts";

// Plan, then execute: the worker turns a job step into a plain-data SandboxSpec here, and native
// code executes it. The step's limits arrive resolved (contract/resolve-limits.ts: request →
// language → operator default; the API has already rejected request limits above the ceilings);
// the limits no request can change come from the sandbox configuration.

/** The SANDBOX_* settings every step gets. */
export type StepSandboxSettings = Pick<
  SandboxConfig,
  | "SANDBOX_FILE_SIZE_BYTES"
  | "SANDBOX_OPEN_FILES"
  | "SANDBOX_STACK_BYTES"
  | "SANDBOX_TMPFS_BYTES"
  | "SANDBOX_CPU_QUOTA_PERCENT"
>;

export interface StepPlan {
  /** Where the language runs and its extra environment. */
  language: Pick<Language, "env"> & { rootfs: RootfsSpec };
  argv: string[];
  /** Host dir bound at BOX_DIR, or null for steps that need no files (version probes). */
  workDir: { path: string; writable: boolean } | null;
  /** More binds after the work dir's (a checker's read-only test files). */
  binds?: BindSpec[];
  stdin: Buffer;
  limits: StepLimitValues;
  slot: number;
  sandbox: StepSandboxSettings;
}

export function buildSandboxSpec(plan: StepPlan): SandboxSpec {
  const { sandbox } = plan;
  const limits: SandboxLimits = {
    ...plan.limits,
    fileSizeBytes: sandbox.SANDBOX_FILE_SIZE_BYTES,
    openFiles: sandbox.SANDBOX_OPEN_FILES,
    // A stack limit above the memory limit would only move the failure from SIGSEGV to the OOM killer.
    stackBytes: Math.min(sandbox.SANDBOX_STACK_BYTES, plan.limits.memoryBytes),
    tmpfsBytes: sandbox.SANDBOX_TMPFS_BYTES,
    cpuQuotaPercent: sandbox.SANDBOX_CPU_QUOTA_PERCENT,
  };
  return {
    rootfs: plan.language.rootfs,
    binds: [
      ...(plan.workDir
        ? [{ source: plan.workDir.path, target: BOX_DIR, writable: plan.workDir.writable }]
        : []),
      ...(plan.binds ?? []),
    ],
    argv: plan.argv,
    env: stepEnvironment(plan.language),
    cwd: plan.workDir ? BOX_DIR : "/tmp",
    stdin: plan.stdin,
    limits,
    slot: plan.slot,
  };
}
