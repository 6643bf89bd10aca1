import type { Compare } from "../contract/compare.ts";
import type { JobFile } from "../contract/job-file.ts";
import type { Step, Verdict } from "../contract/job-result.ts";
import type { SandboxReport } from "../native/types.ts";
import { classifyRun } from "./classify-verdict.ts";
import type { PreparedChecker } from "./run-checker.ts";
import type { JudgedFile } from "./run-io.ts";
import { stepFromReport } from "./step-from-report.ts";
import type { TestSlot } from "./test-slots.ts";

// One test's verdict from the program's run: limits and crashes first (the supervisor's data);
// then, for a program that ran to a clean exit, its answer — stdout, or the file the test names
// (missing: a wrong answer; longer than outputBytes: output_limit, as stdout would be) — goes to
// the job's checker when it has one, else to the built-in comparison. Judged tests carry a score:
// 1 accepted, the checker's fraction for partial, 0 otherwise.

export interface JudgedTest {
  stdin: string;
  /** Absent for the plain-stdin run, which is not judged. */
  expectedOutput?: string | undefined;
  compare: Compare;
  /** A file-I/O test's input files: the first is the checker's input when stdin is empty. */
  files?: JobFile[] | undefined;
}

export async function judgeTest(
  report: SandboxReport,
  test: JudgedTest,
  checker: PreparedChecker | null,
  /** The slot the test ran on: its checker runs there too. */
  slot: TestSlot,
  judgedFile?: JudgedFile,
): Promise<Step> {
  if (test.expectedOutput === undefined)
    return stepFromReport(report, classifyRun(report, undefined, "exact"));
  const scored = (verdict: Verdict): Step => ({
    ...stepFromReport(report, verdict),
    score: verdict === "accepted" ? 1 : 0,
  });
  if (report.status !== "ok") return scored(classifyRun(report, test.expectedOutput, test.compare));
  if (judgedFile?.kind === "missing") return scored("wrong_answer");
  if (judgedFile?.kind === "too_long") return scored("output_limit");
  const output = judgedFile?.kind === "file" ? judgedFile.data : report.stdout;
  if (!checker) return scored(classifyRun({ ...report, stdout: output }, test.expectedOutput, test.compare));
  const judged = await checker.check(
    {
      input: checkerInput(test),
      output,
      answer: Buffer.from(test.expectedOutput, "utf8"),
    },
    slot,
  );
  const step: Step = { ...stepFromReport(report, judged.verdict), score: judged.score, checker: judged.run };
  if (judged.setupError) step.error = judged.setupError;
  return step;
}

function checkerInput(test: JudgedTest): Buffer {
  const first = test.files?.[0];
  if (test.stdin !== "" || !first) return Buffer.from(test.stdin, "utf8");
  return Buffer.from(first.content, first.encoding === "base64" ? "base64" : "utf8");
}
