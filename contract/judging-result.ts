import { z } from "zod";
import { StopReasonSchema, UsageSchema } from "./usage.ts";

// What the judge's own programs report inside a job's result: a checker's run for one test.

/** One run of the job's checker for a test: how it ended and what it said (capped). */
export const CheckerRunSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  stopReason: StopReasonSchema,
  /** The checker's message (testlib writes it to stderr; stdout when stderr is empty). */
  message: z.string(),
  /** True when the message was cut at CHECKER_MESSAGE_MAX_CHARS or the checker's output limit. */
  messageTruncated: z.boolean(),
  usage: UsageSchema,
});

export type CheckerRun = z.infer<typeof CheckerRunSchema>;
