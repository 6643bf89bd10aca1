import { z } from "zod";
import { CallbackViewSchema } from "./webhook.ts";

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
]);

/** Why the supervisor stopped a step, when it did (mirrors the sandbox's StopReason). */
export const StopReasonSchema = z
  .enum(["cpu_time", "wall_time", "memory", "output", "file_size", "cancelled"])
  .nullable();

export const UsageSchema = z.object({
  /** User + system CPU time of every process of the step. */
  cpuTimeMs: z.number(),
  wallTimeMs: z.number(),
  /** Peak memory of the step's cgroup (RAM, tmpfs pages included). */
  peakMemoryBytes: z.number(),
});

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
  /** Set when the sandbox killed the program for a system call it does not allow: the call's name. */
  blockedSyscall: z.string().optional(),
});

export const JobResultSchema = z.object({
  id: z.string(),
  status: z.literal("completed"),
  verdict: VerdictSchema,
  language: z.string(),
  compile: StepSchema.nullable(),
  /** One per test, or one for the plain stdin run; runs stop after a compile error. */
  runs: z.array(StepSchema),
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
