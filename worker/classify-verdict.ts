import { assertNever } from "../contract/assert-never.ts";
import type { Compare } from "../contract/compare.ts";
import type { Step, Verdict } from "../contract/job-result.ts";
import { BOX_DIR } from "../contract/step-environment.ts";
import type { SandboxReport, SandboxStatus } from "../native/types.ts";
import { compareOutput } from "./compare-output.ts";

// Verdicts come only from supervisor data (the sandbox report) plus, for an accepted/wrong answer,
// the comparison of stdout with the expected output. Nothing the program prints can claim a verdict.
// Sandbox failures (setup_error) become internal_error — the only verdict the queue retries.

/** The verdict of a step whose program ran to completion as the supervisor saw it. */
function verdictOfStatus(status: Exclude<SandboxStatus, "ok">): Verdict {
  switch (status) {
    case "runtime_error":
      return "runtime_error";
    case "time_limit":
      return "time_limit";
    case "memory_limit":
      return "memory_limit";
    case "output_limit":
      return "output_limit";
    case "setup_error":
      return "internal_error";
    default:
      return assertNever(status);
  }
}

/** A compile step passes or is a compile error, whatever stopped the compiler; sandbox failures stay internal. */
export function classifyCompile(report: SandboxReport): Verdict {
  if (report.status === "ok") return "ok";
  if (report.status === "setup_error") return "internal_error";
  return "compile_error";
}

/**
 * Whether a setup failure is the job's own doing: the exec of a program in the work dir, which an
 * earlier step of the job wrote (a compile step may have removed it, made it non-executable or
 * garbage). That is the job's verdict, not a sandbox failure to retry.
 */
function isJobsOwnSetupFailure(report: SandboxReport): boolean {
  return report.setupError?.step.startsWith(`execve ${BOX_DIR}/`) ?? false;
}

/** A run step: limits and crashes first; then, when a test gave an expected output, the comparison. */
export function classifyRun(
  report: SandboxReport,
  expectedOutput: string | undefined,
  compare: Compare,
): Verdict {
  if (report.status === "setup_error" && isJobsOwnSetupFailure(report)) return "runtime_error";
  if (report.status !== "ok") return verdictOfStatus(report.status);
  if (expectedOutput === undefined) return "ok";
  return compareOutput(compare, report.stdout.toString("utf8"), expectedOutput) ? "accepted" : "wrong_answer";
}

/** Whether a step lets the job go on and count as passing. */
export function isPassing(verdict: Verdict): boolean {
  switch (verdict) {
    case "ok":
    case "accepted":
      return true;
    case "wrong_answer":
    case "compile_error":
    case "runtime_error":
    case "time_limit":
    case "memory_limit":
    case "output_limit":
    case "internal_error":
    case "presentation_error":
    case "partial":
    case "checker_error":
    case "skipped":
      return false;
    default:
      return assertNever(verdict);
  }
}

/**
 * The job's verdict: a checker failure anywhere (the judgement is incomplete, and the contestant
 * is never blamed for it), else the first non-passing step's, else ok (plain run) or accepted.
 */
export function classifyJob(compile: Step | null, runs: Step[], hasTests: boolean): Verdict {
  const steps = compile ? [compile, ...runs] : runs;
  if (runs.some((step) => step.verdict === "checker_error")) return "checker_error";
  const failing = steps.find((step) => !isPassing(step.verdict));
  if (failing) return failing.verdict;
  return hasTests ? "accepted" : "ok";
}
