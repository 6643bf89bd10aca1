import type { Compare } from "../contract/compare.ts";
import type { Step } from "../contract/job-result.ts";
import type { SandboxReport } from "../native/types.ts";
import { classifyRun } from "./classify-verdict.ts";
import type { PreparedChecker } from "./run-checker.ts";
import { stepFromReport } from "./step-from-report.ts";

// One test's verdict from the program's run: limits and crashes first (the supervisor's data);
// then, for a program that ran to a clean exit, the job's checker when it has one, else the
// built-in comparison. Judged tests carry a score: 1 accepted, the checker's fraction for partial,
// 0 otherwise.

export interface JudgedTest {
  stdin: string;
  /** Absent for the plain-stdin run, which is not judged. */
  expectedOutput?: string | undefined;
  compare: Compare;
}

export async function judgeTest(
  report: SandboxReport,
  test: JudgedTest,
  checker: PreparedChecker | null,
): Promise<Step> {
  if (test.expectedOutput === undefined)
    return stepFromReport(report, classifyRun(report, undefined, "exact"));
  if (!checker || report.status !== "ok") {
    const step = stepFromReport(report, classifyRun(report, test.expectedOutput, test.compare));
    return { ...step, score: step.verdict === "accepted" ? 1 : 0 };
  }
  const judged = await checker.check({
    input: Buffer.from(test.stdin, "utf8"),
    output: report.stdout,
    answer: Buffer.from(test.expectedOutput, "utf8"),
  });
  const step: Step = { ...stepFromReport(report, judged.verdict), score: judged.score, checker: judged.run };
  if (judged.setupError) step.error = judged.setupError;
  return step;
}
