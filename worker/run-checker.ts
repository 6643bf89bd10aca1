import { lstatSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { Step } from "../contract/job-result.ts";
import { CHECKER_ARGS, CHECKER_DIR, type JudgeProgram } from "../contract/judge-program.ts";
import { resolveCompileLimits, resolveRunLimits } from "../contract/resolve-limits.ts";
import { jobHostId } from "../contract/sandbox-identity.ts";
import { buildSandboxSpec } from "./build-sandbox-spec.ts";
import { type CheckerVerdict, classifyChecker } from "./classify-checker.ts";
import { classifyCompile } from "./classify-verdict.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import type { StepContext } from "./step-context.ts";
import { stepFromReport } from "./step-from-report.ts";
import { createWorkDir, jobFiles, removeWorkDirLater } from "./work-dir.ts";

// Theory of operation: a job's checker gets its own work dir, compiled once (writable, its
// language's compile limits) like the program; then, per test, a fresh sandbox runs it with its
// dir read-only at /box and a second dir bound read-only at /box/.judge holding the test's input, the
// program's output and the expected answer — testlib's `checker input output answer`. The files
// are written by the worker, never by the program, so the program cannot plant anything there, and
// read-only binds mean the checker cannot change them either. Its limits are its own (request →
// its language → operator default), so a slow checker never eats the contestant's time.

/** What the checker is shown for one test. */
export interface CheckerInput {
  input: Buffer;
  output: Buffer;
  answer: Buffer;
}

export interface PreparedChecker {
  /** Its compile step (compiled languages), reported in the job result. */
  compile: Step | null;
  /** False when it failed to compile: the job cannot be judged. */
  ready: boolean;
  /** Runs it for one test. The caller checks the job's signal afterwards. */
  check(test: CheckerInput): Promise<CheckerVerdict>;
  /** Removes its work dir (off the critical path). */
  dispose(): void;
}

export async function prepareChecker(
  checker: JudgeProgram,
  language: RunnableLanguage,
  ctx: StepContext,
): Promise<PreparedChecker> {
  const { settings } = ctx;
  const hostId = jobHostId(ctx.uidBase, ctx.slot);
  const files = jobFiles(checker.source, checker.files, language.sourceFile);
  const workDir = await createWorkDir(settings.worker.WORK_ROOT, files, hostId);
  const dispose = () => removeWorkDirLater(workDir, ctx.log);
  const runLimits = resolveRunLimits(checker.limits, language, settings.limits);
  const sandbox = (argv: string[], writable: boolean, limits: typeof runLimits, judgeDir?: string) =>
    ctx.runSandbox(
      buildSandboxSpec({
        language,
        argv,
        workDir: { path: workDir, writable },
        binds: judgeDir ? [{ source: judgeDir, target: CHECKER_DIR, writable: false }] : [],
        stdin: Buffer.alloc(0),
        limits,
        slot: ctx.slot,
        sandbox: settings.sandbox,
      }),
      { signal: ctx.signal },
    );

  let compile: Step | null = null;
  try {
    if (language.compile) {
      const report = await sandbox(language.compile, true, resolveCompileLimits(language, settings.limits));
      const verdict = classifyCompile(report);
      // A checker that does not compile is the judge's failure, not a compile error of the job.
      compile = stepFromReport(report, verdict === "compile_error" ? "checker_error" : verdict);
    }
    makeMountPoint(path.join(workDir, path.basename(CHECKER_DIR)));
  } catch (error) {
    dispose();
    throw error;
  }

  return {
    compile,
    ready: compile === null || compile.verdict === "ok",
    dispose,
    async check(test) {
      const judgeDir = await createWorkDir(
        settings.worker.WORK_ROOT,
        [
          { path: "input.txt", data: test.input },
          { path: "output.txt", data: test.output },
          { path: "answer.txt", data: test.answer },
        ],
        hostId,
      );
      try {
        const report = await sandbox([...language.run, ...CHECKER_ARGS], false, runLimits, judgeDir);
        return classifyChecker(report);
      } finally {
        removeWorkDirLater(judgeDir, ctx.log);
      }
    },
  };
}

/**
 * The checker's compile step could write anything at the mount point's path — a symlink to a host
 * dir, a file — and the mount would follow it. So after the compile the worker removes whatever is
 * there without following it and makes a plain, root-owned directory; runs see the work dir
 * read-only, so it stays that way.
 */
function makeMountPoint(dir: string): void {
  const existing = lstatOrNull(dir);
  if (existing?.isDirectory() && existing.uid === process.getuid?.()) return;
  if (existing) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
}

function lstatOrNull(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}
