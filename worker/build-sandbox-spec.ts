import type { Config } from "../app/config.ts";
import type { RequestLimits } from "../contract/job-request.ts";
import type { SandboxLimits, SandboxSpec } from "../native/types.ts";
import type { LanguageDefinition } from "./languages.ts";

// Plan, then execute: the worker turns a job step into a plain-data SandboxSpec here, and native
// code executes it. Limits resolve as request → language default → operator default; the API has
// already rejected request limits above the ceilings.

export const BOX_DIR = "/box";

export type StepLimits = Required<RequestLimits>;

export function runLimits(request: RequestLimits, language: LanguageDefinition, config: Config): StepLimits {
  const own = language.limits;
  return {
    cpuTimeMs: request.cpuTimeMs ?? own.cpuTimeMs ?? config.DEFAULT_CPU_TIME_MS,
    wallTimeMs: request.wallTimeMs ?? own.wallTimeMs ?? config.DEFAULT_WALL_TIME_MS,
    memoryBytes: request.memoryBytes ?? own.memoryBytes ?? config.DEFAULT_MEMORY_BYTES,
    pids: request.pids ?? own.pids ?? config.DEFAULT_PIDS,
    outputBytes: request.outputBytes ?? own.outputBytes ?? config.DEFAULT_OUTPUT_BYTES,
  };
}

export function compileLimits(language: LanguageDefinition, config: Config): StepLimits {
  const own = language.compileLimits;
  return {
    cpuTimeMs: own.cpuTimeMs ?? config.COMPILE_CPU_TIME_MS,
    wallTimeMs: own.wallTimeMs ?? config.COMPILE_WALL_TIME_MS,
    memoryBytes: own.memoryBytes ?? config.COMPILE_MEMORY_BYTES,
    pids: own.pids ?? config.COMPILE_PIDS,
    outputBytes: own.outputBytes ?? config.COMPILE_OUTPUT_BYTES,
  };
}

export interface StepPlan {
  language: LanguageDefinition;
  argv: string[];
  /** Host dir bound at /box, or null for steps that need no files (version probes). */
  workDir: { path: string; writable: boolean } | null;
  stdin: Buffer;
  limits: StepLimits;
  slot: number;
  config: Config;
}

export function buildSandboxSpec(plan: StepPlan): SandboxSpec {
  const { config } = plan;
  const limits: SandboxLimits = {
    ...plan.limits,
    fileSizeBytes: config.SANDBOX_FILE_SIZE_BYTES,
    openFiles: config.SANDBOX_OPEN_FILES,
    // A stack limit above the memory limit would only move the failure from SIGSEGV to the OOM killer.
    stackBytes: Math.min(config.SANDBOX_STACK_BYTES, plan.limits.memoryBytes),
    tmpfsBytes: config.SANDBOX_TMPFS_BYTES,
    cpuQuotaPercent: config.SANDBOX_CPU_QUOTA_PERCENT,
  };
  return {
    rootfs: plan.language.rootfs,
    binds: plan.workDir
      ? [{ source: plan.workDir.path, target: BOX_DIR, writable: plan.workDir.writable }]
      : [],
    argv: plan.argv,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: "/tmp",
      LANG: "C.UTF-8",
      ...plan.language.env,
    },
    cwd: plan.workDir ? BOX_DIR : "/tmp",
    stdin: plan.stdin,
    limits,
    slot: plan.slot,
  };
}
