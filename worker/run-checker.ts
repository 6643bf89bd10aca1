import path from "node:path";
import type { Step } from "../contract/job-result.ts";
import { CHECKER_ARGS, CHECKER_DIR, type JudgeProgram } from "../contract/judge-program.ts";
import { slotIdBase } from "../contract/sandbox-identity.ts";
import { buildJudgeProgram } from "./build-judge-program.ts";
import { type CheckerVerdict, classifyChecker } from "./classify-checker.ts";
import { slotJobHostId } from "./job-host-id.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import type { StepContext } from "./step-context.ts";
import type { TestSlot } from "./test-slots.ts";
import { newWorkDir, removeWorkDirLater } from "./work-dir.ts";

// Theory of operation: a job's checker is built once (build-judge-program.ts: its own work dir,
// compiled once); then, per test, a fresh sandbox runs it with its dir read-only at /box and a
// second dir bound read-only at /box/.judge holding the test's input, the program's output and
// the expected answer — testlib's `checker input output answer`. The files are written by the
// worker, never by the program, so the program cannot plant anything there, and the read-only
// bind means the checker cannot change them either.

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
  /** Its work dir (copied onto a test's borrowed slot: test-slots.ts). */
  workDir: string;
  /** Runs it for one test, on the test's slot. The caller checks the job's signal afterwards. */
  check(test: CheckerInput, slot: TestSlot): Promise<CheckerVerdict>;
  /** Removes its work dir (off the critical path). */
  dispose(): void;
}

export async function prepareChecker(
  checker: JudgeProgram,
  language: RunnableLanguage,
  ctx: StepContext,
): Promise<PreparedChecker> {
  const built = await buildJudgeProgram(checker, language, ctx, [path.basename(CHECKER_DIR)]);
  return {
    compile: built.compile,
    ready: built.ready,
    workDir: built.workDir,
    dispose: built.dispose,
    async check(test, slot) {
      const judgeDir = await writeJudgeFiles(slot.ctx, {
        "input.txt": test.input,
        "output.txt": test.output,
        "answer.txt": test.answer,
      });
      try {
        const binds = [{ source: judgeDir, target: CHECKER_DIR, writable: false }];
        return classifyChecker(await built.run((run) => [...run, ...CHECKER_ARGS], binds, { slot }));
      } finally {
        removeWorkDirLater(judgeDir, slot.ctx.log);
      }
    },
  };
}

/** A fresh dir with a test's files for a judge program (bound read-only at CHECKER_DIR). */
export function writeJudgeFiles(ctx: StepContext, files: Record<string, Buffer>): Promise<string> {
  return newWorkDir(
    ctx.settings.worker.WORK_ROOT,
    slotIdBase(ctx.uidBase, ctx.slot),
    Object.entries(files).map(([name, data]) => ({ path: name, data })),
    slotJobHostId(ctx.uidBase, ctx.slot),
  );
}
