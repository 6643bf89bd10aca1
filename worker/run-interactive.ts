import { chownSync } from "node:fs";
import path from "node:path";
import type { Step } from "../contract/job-result.ts";
import {
  CHECKER_DIR,
  FROM_PROGRAM_FIFO,
  INTERACTION_DIR,
  INTERACTOR_ARGS,
  type JudgeProgram,
  TO_PROGRAM_FIFO,
} from "../contract/judge-program.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { makeFifo } from "../native/index.ts";
import type { SandboxReport } from "../native/types.ts";
import { buildJudgeProgram, makeMountPoint } from "./build-judge-program.ts";
import { buildSandboxSpec } from "./build-sandbox-spec.ts";
import { classifyChecker } from "./classify-checker.ts";
import { classifyInteraction } from "./classify-interaction.ts";
import { slotJobHostId } from "./job-host-id.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import { writeJudgeFiles } from "./run-checker.ts";
import type { StepContext } from "./step-context.ts";
import { stepFromReport } from "./step-from-report.ts";
import type { TestSlot } from "./test-slots.ts";
import { removeWorkDirLater } from "./work-dir.ts";

// Theory of operation: an interactive test runs the program and the interactor in two sandboxes
// at once — the program on its slot's runner, the interactor on a second runner of the same slot
// (same host ids, its own cgroup, pid, mount and user namespaces, so neither can see or signal the
// other). The worker makes two named pipes in a fresh dir bound read-only at /box/.io in both;
// a shell inside each sandbox opens them as the process's stdin and stdout, in the order that
// pairs the opens (program: read to-program, then write from-program; interactor: write
// to-program, then read from-program), and execs the real command. Whichever side ends first,
// the other gets EOF or SIGPIPE, and is stopped after a grace period if it keeps running. Waiting
// on the other side costs no CPU time: each side's CPU is its own cgroup's.

/** The second runner of slot s is s + this (native runners are threads keyed by number). */
export const INTERACTOR_RUNNER_OFFSET = 1000;
/** How long a side may run on after the other ended before it is stopped. */
export const INTERACTOR_GRACE_MS = 2000;
export const PROGRAM_GRACE_MS = 500;

const openAndExec = (redirects: string) => ["/bin/sh", "-c", `exec "$@" ${redirects}`, "sh"];

export interface PreparedInteractor {
  compile: Step | null;
  ready: boolean;
  /** Its work dir (copied onto a test's borrowed slot: test-slots.ts). */
  workDir: string;
  /** Runs one test on its slot: the program (its language, run argv, work dir, limits) against the interactor. */
  interact(
    program: InteractiveProgram,
    test: { input: Buffer; answer: Buffer },
    slot: TestSlot,
  ): Promise<Step>;
  dispose(): void;
}

export interface InteractiveProgram {
  language: RunnableLanguage;
  argv: string[];
  workDir: string;
  limits: StepLimitValues;
}

export async function prepareInteractor(
  interactor: JudgeProgram,
  language: RunnableLanguage,
  ctx: StepContext,
): Promise<PreparedInteractor> {
  const built = await buildJudgeProgram(interactor, language, ctx, [
    path.basename(CHECKER_DIR),
    path.basename(INTERACTION_DIR),
  ]);
  const programMountPoints = new Set<string>();
  return {
    compile: built.compile,
    ready: built.ready,
    workDir: built.workDir,
    dispose: built.dispose,
    async interact(program, test, slot) {
      // The program's dir on this slot: the job's own, or the borrowed slot's copy (test-slots.ts).
      const workDir = await slot.dir(program.workDir);
      if (!programMountPoints.has(workDir)) {
        makeMountPoint(path.join(workDir, path.basename(INTERACTION_DIR)));
        programMountPoints.add(workDir);
      }
      const on = slot.ctx;
      const hostId = slotJobHostId(on.uidBase, on.slot);
      const judgeDir = await writeJudgeFiles(on, { "input.txt": test.input, "answer.txt": test.answer });
      const pipeDir = await writeJudgeFiles(on, {});
      try {
        for (const fifo of [TO_PROGRAM_FIFO, FROM_PROGRAM_FIFO]) {
          const file = path.join(pipeDir, path.basename(fifo));
          makeFifo(file, 0o600);
          chownSync(file, hostId, hostId);
        }
        const pipes = { source: pipeDir, target: INTERACTION_DIR, writable: false };
        const { programReport, interactorReport } = await runBoth(ctx, {
          program: (signal) =>
            ctx.runSandbox(
              buildSandboxSpec({
                language: program.language,
                argv: [...openAndExec(`<${TO_PROGRAM_FIFO} >${FROM_PROGRAM_FIFO}`), ...program.argv],
                workDir: { path: workDir, writable: false },
                binds: [pipes],
                stdin: Buffer.alloc(0),
                limits: program.limits,
                slot: on.slot,
                sandbox: ctx.settings.sandbox,
              }),
              { signal },
            ),
          interactor: (signal) =>
            built.run(
              (run) => [
                ...openAndExec(`>${TO_PROGRAM_FIFO} <${FROM_PROGRAM_FIFO}`),
                ...run,
                ...INTERACTOR_ARGS,
              ],
              [{ source: judgeDir, target: CHECKER_DIR, writable: false }, pipes],
              { runner: on.slot + INTERACTOR_RUNNER_OFFSET, signal, slot },
            ),
        });
        const judged = classifyChecker(interactorReport);
        const outcome = classifyInteraction(programReport, interactorReport, judged);
        const step: Step = {
          ...stepFromReport(programReport, outcome.verdict),
          score: outcome.score,
          interactor: judged.run,
        };
        if (outcome.setupError) step.error = outcome.setupError;
        return step;
      } finally {
        removeWorkDirLater(judgeDir, on.log);
        removeWorkDirLater(pipeDir, on.log);
      }
    },
  };
}

/** Runs both sides together; when one ends, the other is stopped after its grace period. */
async function runBoth(
  ctx: StepContext,
  sides: {
    program: (signal: AbortSignal) => Promise<SandboxReport>;
    interactor: (signal: AbortSignal) => Promise<SandboxReport>;
  },
) {
  const stopProgram = new AbortController();
  const stopInteractor = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const later = (controller: AbortController, ms: number) => () => {
    timers.push(setTimeout(() => controller.abort(), ms));
  };
  try {
    const program = sides.program(AbortSignal.any([ctx.signal, stopProgram.signal]));
    const interactor = sides.interactor(AbortSignal.any([ctx.signal, stopInteractor.signal]));
    program.then(later(stopInteractor, INTERACTOR_GRACE_MS), () => stopInteractor.abort());
    interactor.then(later(stopProgram, PROGRAM_GRACE_MS), () => stopProgram.abort());
    const [programReport, interactorReport] = await Promise.all([program, interactor]);
    return { programReport, interactorReport };
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}
