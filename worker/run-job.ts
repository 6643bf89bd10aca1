import type { Logger } from "pino";
import type { LimitsConfig, WorkerSettings } from "../config/load-config.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JobResult, Step } from "../contract/job-result.ts";
import { resolveCompileLimits, resolveRunLimits, type StepLimitValues } from "../contract/resolve-limits.ts";
import { jobHostId } from "../contract/sandbox-identity.ts";
import type { StepOptions } from "../native/run-live-sandbox.ts";
import type { SandboxReport, SandboxSpec } from "../native/types.ts";
import { buildSandboxSpec, type StepSandboxSettings } from "./build-sandbox-spec.ts";
import { classifyCompile, classifyJob, classifyRun, isPassing } from "./classify-verdict.ts";
import type { JobStepEvents, StepPlace } from "./job-step-events.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import { stepFromReport } from "./step-from-report.ts";
import { createWorkDir, jobFiles, removeWorkDirLater } from "./work-dir.ts";

// Theory of operation: one job = one work dir + one sandbox per step. The work dir gets the job's
// files; the compile step (compiled languages only) runs with the dir writable and the language's
// compile limits; then every test (or the single plain-stdin run) runs in a fresh sandbox with the
// dir read-only, so no run can leave anything for the next. Runs stop at the first compile error;
// all tests run even after a failing one, since graders want every verdict. The dir is removed in a
// finally, whatever happened.

export type RunSandbox = (spec: SandboxSpec, opts?: StepOptions) => Promise<SandboxReport>;

export interface RunJobContext {
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
  /** The job's events (job-step-events.ts): each step's start, output and end; live input. */
  events?: JobStepEvents;
}

/** A sandbox failed to set up: the queue retries the job (the only retried outcome). */
export class SandboxSetupError extends Error {
  constructor(readonly step: Step) {
    super(`sandbox setup failed: ${step.error ?? "unknown step"}`);
    this.name = "SandboxSetupError";
  }
}

/** The job's signal was aborted (cancel or shutdown); signal.reason says which. */
export class JobAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super(`job aborted: ${String(reason)}`);
    this.name = "JobAbortedError";
  }
}

export interface RunJobOptions {
  /** When true a setup failure throws SandboxSetupError; on the last attempt it becomes an internal_error result. */
  throwOnSetupError: boolean;
}

export async function runJob(
  id: string,
  request: JobRequest,
  language: RunnableLanguage,
  ctx: RunJobContext,
  options: RunJobOptions,
): Promise<JobResult> {
  const { settings } = ctx;
  const files = jobFiles(request.source, request.files, language.sourceFile);
  const workDir = await createWorkDir(settings.worker.WORK_ROOT, files, jobHostId(ctx.uidBase, ctx.slot));
  try {
    const step = async (
      argv: string[],
      writable: boolean,
      stdin: Buffer,
      limits: StepLimitValues,
      place: StepPlace,
    ) => {
      const spec = buildSandboxSpec({
        language,
        argv,
        workDir: { path: workDir, writable },
        stdin,
        limits,
        slot: ctx.slot,
        sandbox: settings.sandbox,
      });
      ctx.events?.stepStarted(place);
      const report = await ctx.runSandbox(spec, { signal: ctx.signal, ...ctx.events?.stepOptions(place) });
      if (ctx.signal.aborted) throw new JobAbortedError(ctx.signal.reason);
      return report;
    };
    const failIfSetup = (result: Step, place: StepPlace) => {
      ctx.events?.stepFinished(place, result);
      if (result.verdict === "internal_error" && options.throwOnSetupError)
        throw new SandboxSetupError(result);
      return result;
    };

    let compile: Step | null = null;
    if (language.compile) {
      const limits = resolveCompileLimits(language, settings.limits);
      const place: StepPlace = { stage: "compile", test: null };
      const report = await step(language.compile, true, Buffer.alloc(0), limits, place);
      compile = failIfSetup(stepFromReport(report, classifyCompile(report)), place);
      if (!isPassing(compile.verdict)) {
        return {
          id,
          status: "completed",
          verdict: classifyJob(compile, [], false),
          language: language.id,
          compile,
          runs: [],
        };
      }
    }

    const argv = [...language.run, ...request.args];
    const limits = resolveRunLimits(request.limits, language, settings.limits);
    const tests = request.tests ?? [{ stdin: request.stdin, expectedOutput: undefined }];
    const runs: Step[] = [];
    for (const [index, test] of tests.entries()) {
      const place: StepPlace = { stage: "run", test: request.tests ? index : null };
      const report = await step(argv, false, Buffer.from(test.stdin, "utf8"), limits, place);
      runs.push(
        failIfSetup(stepFromReport(report, classifyRun(report, test.expectedOutput, request.compare)), place),
      );
    }
    const verdict = classifyJob(compile, runs, request.tests !== undefined);
    return { id, status: "completed", verdict, language: language.id, compile, runs };
  } finally {
    removeWorkDirLater(workDir, ctx.log);
  }
}
