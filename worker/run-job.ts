import type { JobRequest, JobTest } from "../contract/job-request.ts";
import type { JobResult, Step, Verdict } from "../contract/job-result.ts";
import { OUTPUT_FILES_JOB_MAX_BYTES } from "../contract/output-files.ts";
import { resolveCompileLimits, resolveTestLimits, type StepLimitValues } from "../contract/resolve-limits.ts";
import { slotIdBase } from "../contract/sandbox-identity.ts";
import { buildSandboxSpec } from "./build-sandbox-spec.ts";
import { classifyCompile, classifyJob, isPassing } from "./classify-verdict.ts";
import { runTestsFannedOut } from "./fan-out-tests.ts";
import { slotJobHostId } from "./job-host-id.ts";
import type { JobStepEvents, StepPlace } from "./job-step-events.ts";
import { judgeTest } from "./judge-test.ts";
import { OrderedStepEvents } from "./ordered-step-events.ts";
import { type PreparedJudges, prepareJudges } from "./prepare-judges.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import { copiesWhole } from "./run-dir.ts";
import { prepareRunIo } from "./run-io.ts";
import { scoreGroups, shouldSkip, skippedStep } from "./score-groups.ts";
import type { JudgeLanguages, StepContext } from "./step-context.ts";
import { stepFromReport } from "./step-from-report.ts";
import { type SlotLender, TestSlots } from "./test-slots.ts";
import {
  createWorkDir,
  jobFiles,
  removeWorkDirLater,
  resetWorkDir,
  workDirCharge,
  workDirPath,
} from "./work-dir.ts";

// Theory of operation: one job = one work dir + one sandbox per step. The work dir gets the job's
// files; the compile step (compiled languages only) runs with the dir writable and the language's
// compile limits; then every test (or the single plain-stdin run) runs in a fresh sandbox with the
// dir read-only, so no run can leave anything for the next (a run with file I/O gets its own
// writable copy instead, removed after it: run-io.ts). Runs stop at the first compile error;
// all tests run even after a failing one, since graders want every verdict. A job's tests run side
// by side on the worker's free slots when it can (fan-out-tests.ts: borrowed one test at a time,
// results and events in test order, the verdict what one slot would give). The dir is removed in a
// finally, whatever happened.

export type { RunSandbox } from "./step-context.ts";

export interface RunJobContext extends StepContext {
  /** The languages of the job's judge programs (a checker), as the dispatch gate found them. */
  judgeLanguages?: JudgeLanguages;
  /** The job's events (job-step-events.ts): each step's start, output and end; live input. */
  events?: JobStepEvents;
  /** The worker's free slots a job's tests may borrow (slot-pool.ts); absent: one slot per job. */
  lender?: SlotLender;
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
  const workDir = workDirPath(settings.worker.WORK_ROOT, slotIdBase(ctx.uidBase, ctx.slot));
  const hostUid = slotJobHostId(ctx.uidBase, ctx.slot);
  let judges: PreparedJudges | null = null;
  try {
    // Inside the try: a creation that fails half-way leaves a dir that the finally removes.
    createWorkDir(workDir, files, hostUid);
    // A step on the job's own slot and dir unless `at` names a test's (fan-out-tests.ts).
    const step = async (
      argv: string[],
      writable: boolean,
      stdin: Buffer,
      limits: StepLimitValues,
      place: StepPlace,
      at: { dir: string; slot: number; events: JobStepEvents | undefined } = {
        dir: workDir,
        slot: ctx.slot,
        events: ctx.events,
      },
    ) => {
      const spec = buildSandboxSpec({
        language,
        argv,
        workDir: { path: at.dir, writable },
        stdin,
        limits,
        slot: at.slot,
        sandbox: settings.sandbox,
      });
      at.events?.stepStarted(place);
      const report = await ctx.runSandbox(spec, { signal: ctx.signal, ...at.events?.stepOptions(place) });
      if (ctx.signal.aborted) throw new JobAbortedError(ctx.signal.reason);
      return report;
    };
    // A step of the program ends its place's events; the judges' own compiles have no place.
    const failIfSetup = (result: Step, place?: StepPlace, events = ctx.events) => {
      if (place) events?.stepFinished(place, result);
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
      resetWorkDir(workDir, hostUid);
    }

    judges = await prepareJudges(request, ctx.judgeLanguages ?? {}, ctx);
    if (ctx.signal.aborted) throw new JobAbortedError(ctx.signal.reason);
    const { checkerCompile, interactorCompile } = judges.compiles;
    if (checkerCompile) failIfSetup(checkerCompile);
    if (interactorCompile) failIfSetup(interactorCompile);
    const compiles = judges.compiles;
    const finish = (verdict: Verdict, runs: Step[]): JobResult => {
      const result: JobResult = {
        id,
        status: "completed",
        verdict,
        language: language.id,
        compile,
        ...compiles,
        runs,
      };
      if (request.groups) result.score = scoreGroups(request.groups, runs);
      return result;
    };
    if (judges.failedVerdict) return finish(judges.failedVerdict, []);
    const { checker, interactor } = judges;

    const argv = [...language.run, ...request.args];
    const tests: (Omit<JobTest, "expectedOutput"> & { expectedOutput?: string })[] = request.tests ?? [
      { stdin: request.stdin },
    ];
    // What the compile step left in the work dir is charged to every run (work-dir.ts).
    const charge = compile ? await workDirCharge(workDir) : null;
    const fileBudget = { bytes: OUTPUT_FILES_JOB_MAX_BYTES };
    const judgeDirs = [checker?.workDir, interactor?.workDir].filter((dir) => dir !== undefined);
    const fanOut = ctx.lender && fansOut(request, tests.length, [workDir, ...judgeDirs]);
    const slots = new TestSlots(ctx, fanOut ? (ctx.lender ?? null) : null);
    const ordered = ctx.events ? new OrderedStepEvents(ctx.events) : null;
    let runs: Step[];
    try {
      runs = await runTestsFannedOut(tests.length, slots, async (index, slot, earlier) => {
        const test = tests[index] as (typeof tests)[number];
        // Without fan-out (groups that stop at a failure) every earlier test has its result here.
        if (request.groups && shouldSkip(index, request.groups, earlier)) {
          ordered?.finish(index);
          return skippedStep();
        }
        const events = ordered?.of(index);
        const place: StepPlace = { stage: "run", test: request.tests ? index : null };
        const finished = (result: Step) => failIfSetup(result, place, events);
        const testLimits = resolveTestLimits(test, request.limits, language, settings.limits);
        const limits = charge ? charge(testLimits) : testLimits;
        if (interactor && test.expectedOutput !== undefined) {
          const answer = Buffer.from(test.expectedOutput, "utf8");
          const input = Buffer.from(test.stdin, "utf8");
          events?.stepStarted(place);
          const program = { language, argv, workDir, limits };
          const step = await interactor.interact(program, { input, answer }, slot);
          if (ctx.signal.aborted) throw new JobAbortedError(ctx.signal.reason);
          return finished(step);
        }
        // A run with file I/O gets its own writable copy of the work dir (run-io.ts).
        const io = await prepareRunIo(request, test, workDir, slot.ctx, fileBudget);
        try {
          const stdin = Buffer.from(test.stdin, "utf8");
          const dir = io?.dir ?? (await slot.dir(workDir));
          const report = await step(argv, io !== null, stdin, limits, place, {
            dir,
            slot: slot.ctx.slot,
            events,
          });
          const compare = test.compare ?? request.compare;
          const judged = await judgeTest(report, { ...test, compare }, checker, slot, io?.judgedFile(limits));
          if (ctx.signal.aborted) throw new JobAbortedError(ctx.signal.reason);
          const outputFiles = io?.outputFiles();
          return finished(outputFiles ? { ...judged, outputFiles } : judged);
        } finally {
          io?.dispose();
        }
      });
    } finally {
      slots.dispose();
    }
    return finish(classifyJob(compile, runs, request.tests !== undefined), runs);
  } finally {
    judges?.dispose();
    removeWorkDirLater(workDir, ctx.log);
  }
}

/**
 * Whether a job's tests may run side by side on borrowed slots: it has several, and nothing in it
 * depends on the order the tests end — a score group that stops at its first failure decides
 * from earlier results whether a test runs, and the job's output-files budget goes to earlier
 * tests first. Its dirs must copy whole onto a borrowed slot (run-dir.ts copiesWhole).
 */
function fansOut(
  request: Pick<JobRequest, "groups" | "outputFiles">,
  tests: number,
  dirs: string[],
): boolean {
  if (tests < 2 || request.outputFiles) return false;
  if (request.groups?.some((group) => group.stopAtFirstFailure)) return false;
  return dirs.every(copiesWhole);
}
