import type { Verdict } from "../contract/job-result.ts";
import { CHECKER_EXIT_CODES, CHECKER_MESSAGE_MAX_CHARS } from "../contract/judge-program.ts";
import type { CheckerRun } from "../contract/judging-result.ts";
import type { SandboxReport } from "../native/types.ts";

// A checker's run → the test's verdict, after testlib's exit codes (contract/judge-program.ts).
// Only a checker that ran to its own exit speaks for the contestant; one that crashed, was killed
// by a limit, exited 3 or with a code testlib never uses, or claimed points it cannot parse is a
// checker_error — a judge failure, never the contestant's. A sandbox setup failure stays
// internal_error, the one retried verdict.

export interface CheckerVerdict {
  verdict: Verdict;
  /** Fraction of the test's points, 0…1. */
  score: number;
  run: CheckerRun;
  /** For internal_error: the checker sandbox's setup failure. */
  setupError?: string;
}

export function classifyChecker(report: SandboxReport): CheckerVerdict {
  const run = checkerRun(report);
  const judged = (verdict: Verdict, score = 0): CheckerVerdict => ({ verdict, score, run });
  if (report.status === "setup_error") {
    return {
      ...judged("internal_error"),
      setupError: `checker: ${report.setupError?.message ?? "setup failed"}`,
    };
  }
  const exited = report.status === "ok" || (report.status === "runtime_error" && report.signal === null);
  if (!exited || report.exitCode === null) return judged("checker_error");
  switch (report.exitCode) {
    case CHECKER_EXIT_CODES.accepted:
      return judged("accepted", 1);
    case CHECKER_EXIT_CODES.wrongAnswer:
    case CHECKER_EXIT_CODES.unexpectedEof:
      return judged("wrong_answer");
    case CHECKER_EXIT_CODES.presentationError:
    case CHECKER_EXIT_CODES.dirt:
      return judged("presentation_error");
    case CHECKER_EXIT_CODES.points: {
      const score = pointsOf(run.message);
      return score === null ? judged("checker_error") : judged(score === 1 ? "accepted" : "partial", score);
    }
    default:
      return judged("checker_error");
  }
}

/** testlib's quitp writes "points 0.5 message" (or "0.5 message"): the fraction the test earned. */
export function pointsOf(message: string): number | null {
  const match = /^\s*(?:points\s+)?([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\s|$)/.exec(message);
  if (!match) return null;
  const score = Number(match[1]);
  return Number.isFinite(score) && score >= 0 && score <= 1 ? score : null;
}

function checkerRun(report: SandboxReport): CheckerRun {
  const fromStderr = report.stderr.length > 0;
  const text = (fromStderr ? report.stderr : report.stdout).toString("utf8");
  const streamTruncated = fromStderr ? report.stderrTruncated : report.stdoutTruncated;
  return {
    exitCode: report.exitCode,
    signal: report.signal,
    stopReason: report.stopReason,
    message: text.slice(0, CHECKER_MESSAGE_MAX_CHARS),
    messageTruncated: streamTruncated || text.length > CHECKER_MESSAGE_MAX_CHARS,
    usage: {
      cpuTimeMs: report.cpuTimeMs,
      wallTimeMs: report.wallTimeMs,
      peakMemoryBytes: report.peakMemoryBytes,
    },
  };
}
