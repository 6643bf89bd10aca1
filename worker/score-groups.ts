import type { JobScore, TestGroup } from "../contract/groups.ts";
import type { Step } from "../contract/job-result.ts";
import { isPassing } from "./classify-verdict.ts";

// Subtask scoring (contract/groups.ts): a group earns points × the lowest score of its tests;
// with stopAtFirstFailure, a test is skipped when every group it belongs to has stopped.

/** A test that scored nothing (an unjudged or skipped one too) stops its group. */
const failed = (step: Step | undefined) => step === undefined || (step.score ?? 0) === 0;

/**
 * Whether test `index` can be skipped: it belongs to at least one group, and every group it
 * belongs to stops at its first failure and has a failed test among those already run.
 */
export function shouldSkip(index: number, groups: TestGroup[], runs: Step[]): boolean {
  const mine = groups.filter((group) => group.tests.includes(index));
  return (
    mine.length > 0 &&
    mine.every(
      (group) => group.stopAtFirstFailure && group.tests.some((t) => t < runs.length && failed(runs[t])),
    )
  );
}

export function scoreGroups(groups: TestGroup[], runs: Step[]): JobScore {
  const scored = groups.map((group) => {
    const steps = group.tests.map((t) => runs[t] ?? skippedStep());
    const lowest = Math.min(...steps.map((step) => step.score ?? 0));
    const failing = steps.find((step) => !isPassing(step.verdict));
    return {
      ...(group.name === undefined ? {} : { name: group.name }),
      points: group.points * lowest,
      maxPoints: group.points,
      verdict: failing ? failing.verdict : "accepted",
      tests: group.tests,
    };
  });
  const total = (key: "points" | "maxPoints") => scored.reduce((sum, group) => sum + group[key], 0);
  return { points: total("points"), maxPoints: total("maxPoints"), groups: scored };
}

/** The step of a test that did not run. */
export function skippedStep(): Step {
  return {
    verdict: "skipped",
    exitCode: null,
    signal: null,
    stopReason: null,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
    usage: { cpuTimeMs: 0, wallTimeMs: 0, peakMemoryBytes: 0 },
    score: 0,
  };
}
