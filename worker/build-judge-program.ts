import { lstatSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Step } from "../contract/job-result.ts";
import type { JudgeProgram } from "../contract/judge-program.ts";
import { resolveCompileLimits, resolveRunLimits, type StepLimitValues } from "../contract/resolve-limits.ts";
import { slotIdBase } from "../contract/sandbox-identity.ts";
import type { BindSpec, SandboxReport } from "../native/types.ts";
import { buildSandboxSpec } from "./build-sandbox-spec.ts";
import { classifyCompile } from "./classify-verdict.ts";
import { slotJobHostId } from "./job-host-id.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import type { StepContext } from "./step-context.ts";
import { stepFromReport } from "./step-from-report.ts";
import type { TestSlot } from "./test-slots.ts";
import { jobFiles, newWorkDir, removeWorkDirLater } from "./work-dir.ts";

// A judge program (a checker or an interactor) built once per job: its own work dir with its
// files, compiled (writable, its language's compile limits) like the contestant's program, then
// run as often as the job needs with the dir read-only and its own limits (request → its language
// → operator default), so a slow judge never eats the contestant's time. A compile failure is
// the judge's (checker_error), never a compile error of the job.

export interface BuiltJudgeProgram {
  workDir: string;
  /** Its compile step (compiled languages), reported in the job result. */
  compile: Step | null;
  /** False when it failed to compile: the job cannot be judged. */
  ready: boolean;
  language: RunnableLanguage;
  limits: StepLimitValues;
  /** Runs it once: argv after the language's run command, extra read-only binds; on `slot` (a test's) or the job's own. */
  run(argv: (run: string[]) => string[], binds: BindSpec[], opts?: JudgeRunOptions): Promise<SandboxReport>;
  /** Removes its work dir (off the critical path). */
  dispose(): void;
}

export interface JudgeRunOptions {
  runner?: number;
  signal?: AbortSignal;
  slot?: TestSlot;
}

export async function buildJudgeProgram(
  program: JudgeProgram,
  language: RunnableLanguage,
  ctx: StepContext,
  /** Dirs other dirs are bound on at run time, made after the compile (see makeMountPoint). */
  mountPoints: string[],
): Promise<BuiltJudgeProgram> {
  const { settings } = ctx;
  const files = jobFiles(program.source, program.files, language.sourceFile);
  const workDir = await newWorkDir(
    settings.worker.WORK_ROOT,
    slotIdBase(ctx.uidBase, ctx.slot),
    files,
    slotJobHostId(ctx.uidBase, ctx.slot),
  );
  const dispose = () => removeWorkDirLater(workDir, ctx.log);
  const sandbox = async (
    argv: string[],
    writable: boolean,
    limits: StepLimitValues,
    binds: BindSpec[],
    opts: JudgeRunOptions = {},
  ) => {
    const spec = buildSandboxSpec({
      language,
      argv,
      workDir: { path: opts.slot ? await opts.slot.dir(workDir) : workDir, writable },
      binds,
      stdin: Buffer.alloc(0),
      limits,
      slot: opts.slot?.ctx.slot ?? ctx.slot,
      sandbox: settings.sandbox,
    });
    if (opts.runner !== undefined) spec.runner = opts.runner;
    return ctx.runSandbox(spec, { signal: opts.signal ?? ctx.signal });
  };

  let compile: Step | null = null;
  try {
    if (language.compile) {
      const report = await sandbox(
        language.compile,
        true,
        resolveCompileLimits(language, settings.limits),
        [],
      );
      const verdict = classifyCompile(report);
      compile = stepFromReport(report, verdict === "compile_error" ? "checker_error" : verdict);
    }
    for (const dir of mountPoints) makeMountPoint(path.join(workDir, dir));
  } catch (error) {
    dispose();
    throw error;
  }
  const limits = resolveRunLimits(program.limits, language, settings.limits);
  return {
    workDir,
    compile,
    ready: compile === null || compile.verdict === "ok",
    language,
    limits,
    run: (argv, binds, opts) => sandbox(argv(language.run), false, limits, binds, opts),
    dispose,
  };
}

/**
 * A dir's mount point for a bind made at run time. A compile step could have written anything at
 * its path — a symlink to a host dir, a file — and the mount would follow it. So the worker
 * removes whatever is there without following it and makes a plain directory; runs see the work
 * dir read-only, so it stays that way.
 */
export function makeMountPoint(dir: string): void {
  const existing = lstatSync(dir, { throwIfNoEntry: false });
  if (existing?.isDirectory() && existing.uid === process.getuid?.()) return;
  if (existing) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
}
