import { z } from "zod";
import { JobScoreSchema } from "./groups.ts";
import { CheckerRunSchema } from "./judging-result.ts";
import { OutputFilesSchema } from "./output-files.ts";
import { StopReasonSchema, UsageSchema } from "./usage.ts";
import { CallbackViewSchema } from "./webhook.ts";

export { StopReasonSchema, UsageSchema } from "./usage.ts";

// The job result: what the worker returns to the queue and the API hands back unchanged.
// Verdicts are a closed union; every switch over them is exhaustive (see worker/classify-verdict.ts).

export const VerdictSchema = z.enum([
  "ok",
  "accepted",
  "wrong_answer",
  "compile_error",
  "runtime_error",
  "time_limit",
  "memory_limit",
  "output_limit",
  "internal_error",
  /** Contest judging (README "Contest judging"): a checker's verdicts. */
  "presentation_error",
  /** Some of the test's points: the step's `score` says how many (0…1). */
  "partial",
  /** The job's checker failed or could not be built: a judge failure, never the contestant's. */
  "checker_error",
  /** Not run: every group it belongs to stopped at an earlier failure (stopAtFirstFailure). */
  "skipped",
]);

export const StepSchema = z.object({
  verdict: VerdictSchema,
  exitCode: z.number().int().nullable(),
  /** Signal name that ended the main process (e.g. "SIGSEGV"), or null. */
  signal: z.string().nullable(),
  stopReason: StopReasonSchema,
  /** UTF-8 decoded output; invalid bytes become U+FFFD. */
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  usage: UsageSchema,
  /**
   * internal_error: which sandbox setup step failed and why. A program the sandbox killed for a
   * system call its policy does not allow: "killed by the sandbox: syscall `xyz` is not allowed".
   */
  error: z.string().optional(),
  /** Judged tests: the fraction of the test's points earned, 0…1 (1 accepted, 0 failed). */
  score: z.number().min(0).max(1).optional(),
  /** Jobs with a checker: its run for this test (absent when the program itself failed). */
  checker: CheckerRunSchema.optional(),
  /** Interactive jobs: the interactor's run for this test (its verdict is the test's, see README). */
  interactor: CheckerRunSchema.optional(),
  /** Jobs with `outputFiles`: what the run wrote that matched (contract/output-files.ts). */
  outputFiles: OutputFilesSchema.optional(),
  /** Set when the sandbox killed the program for a system call it does not allow: the call's name. */
  blockedSyscall: z.string().optional(),
});

export const JobResultSchema = z.object({
  id: z.string(),
  status: z.literal("completed"),
  verdict: VerdictSchema,
  language: z.string(),
  compile: StepSchema.nullable(),
  /** Jobs with a compiled checker: its compile step (its failure is a checker_error). */
  checkerCompile: StepSchema.optional(),
  /** Interactive jobs with a compiled interactor: its compile step (its failure is a checker_error). */
  interactorCompile: StepSchema.optional(),
  /** One per test, or one for the plain stdin run; runs stop after a compile error. */
  runs: z.array(StepSchema),
  /** Jobs with groups: points per group and in total. */
  score: JobScoreSchema.optional(),
});

export const JobStatusSchema = z.enum(["queued", "running", "completed", "failed", "cancelled"]);

/** GET /jobs/:id. */
export const JobViewSchema = z.object({
  id: z.string(),
  status: JobStatusSchema,
  result: JobResultSchema.optional(),
  /** For failed jobs: why the queue gave up on them. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** The batch the job belongs to, if any. */
  batchId: z.string().optional(),
  /** Webhook deliveries, for jobs submitted with a callbackUrl. */
  callback: CallbackViewSchema.optional(),
});

export type Verdict = z.infer<typeof VerdictSchema>;
export type StopReason = z.infer<typeof StopReasonSchema>;
export type Usage = z.infer<typeof UsageSchema>;
export type Step = z.infer<typeof StepSchema>;
export type JobResult = z.infer<typeof JobResultSchema>;
export type JobStatus = z.infer<typeof JobStatusSchema>;
export type JobView = z.infer<typeof JobViewSchema>;
