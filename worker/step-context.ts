import type { Logger } from "pino";
import type { LimitsConfig, WorkerSettings } from "../config/load-config.ts";
import type { StepOptions } from "../native/run-live-sandbox.ts";
import type { SandboxReport, SandboxSpec } from "../native/types.ts";
import type { StepSandboxSettings } from "./build-sandbox-spec.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";

// What every sandboxed step of a job needs from the worker: where work dirs go, the limits and
// sandbox settings, the slot and its ids, the job's abort signal. run-job.ts runs the program's
// steps with it; the judge's own programs (run-checker.ts) run with the same.

export type RunSandbox = (spec: SandboxSpec, opts?: StepOptions) => Promise<SandboxReport>;

export interface StepContext {
  settings: {
    worker: Pick<WorkerSettings, "WORK_ROOT">;
    limits: Pick<LimitsConfig, "run" | "compile">;
    sandbox: StepSandboxSettings;
  };
  runSandbox: RunSandbox;
  slot: number;
  /** First host id of this worker's slot 0. */
  uidBase: number;
  signal: AbortSignal;
  log: Logger;
}

/** The languages of a job's judge programs, as the dispatch gate found them on this worker. */
export interface JudgeLanguages {
  checker?: RunnableLanguage | undefined;
  interactor?: RunnableLanguage | undefined;
}
