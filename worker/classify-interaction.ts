import type { Verdict } from "../contract/job-result.ts";
import type { SandboxReport } from "../native/types.ts";
import type { CheckerVerdict } from "./classify-checker.ts";
import { classifyRun } from "./classify-verdict.ts";

// An interactive test's verdict from both sides' reports, in this order:
//   1. either sandbox failed to set up → internal_error (retried);
//   2. the program hit a limit of its own (time — a program that never answers waits out its wall
//      time —, memory, output on stderr) → that limit's verdict, whatever the interactor said
//      after it lost its peer;
//   3. the interactor failed (crashed, hit a limit, exit 3, was stopped because it kept running
//      after the program ended) → checker_error, a judge failure;
//   4. the interactor said wrong answer, presentation error or partial → that, even when the
//      program then died of SIGPIPE writing to it (it answered wrong first);
//   5. the interactor accepted: a program that crashed or exited non-zero is a runtime_error;
//      one stopped because it kept running after the interactor ended still answered right.

export interface InteractionOutcome {
  verdict: Verdict;
  score: number;
  setupError?: string;
}

export function classifyInteraction(
  program: SandboxReport,
  interactor: SandboxReport,
  judged: CheckerVerdict,
): InteractionOutcome {
  if (program.status === "setup_error") {
    return { verdict: "internal_error", score: 0, setupError: program.setupError?.message ?? "setup failed" };
  }
  if (judged.verdict === "internal_error") {
    return {
      verdict: "internal_error",
      score: 0,
      setupError: judged.setupError ?? "interactor setup failed",
    };
  }
  if (
    program.status === "time_limit" ||
    program.status === "memory_limit" ||
    program.status === "output_limit"
  ) {
    return { verdict: classifyRun(program, undefined, "exact"), score: 0 };
  }
  if (interactor.stopReason === "cancelled" || judged.verdict === "checker_error") {
    return { verdict: "checker_error", score: 0 };
  }
  if (judged.verdict !== "accepted") return { verdict: judged.verdict, score: judged.score };
  const stoppedByUs = program.stopReason === "cancelled";
  if (program.status === "runtime_error" && !stoppedByUs) return { verdict: "runtime_error", score: 0 };
  return { verdict: "accepted", score: judged.score };
}
