import { z } from "zod";
import { JobResultSchema, StepSchema } from "./job-result.ts";

// The events of a job, in order: queued → started (worker, slot) → per step: step.started (stage,
// test index) → output pieces (stdout/stderr, byte offsets) → step.finished (the Step) → the end
// (job.finished with the JobResult, or job.failed). Workers append them to a bounded Redis stream
// per job (redis/job-event-log.ts); any API process serves them over SSE (GET /jobs/:id/events,
// POST /run?stream=1) and WebSocket (/ws). An event's id is its Redis stream id, so a client that
// reconnects with the last id it saw resumes without loss or duplicates.

export const StageSchema = z.enum(["compile", "run"]);
export const OutputStreamSchema = z.enum(["stdout", "stderr"]);

const stepPlace = {
  stage: StageSchema,
  /** The test's index in request.tests; null for the compile step and a plain stdin run. */
  test: z.number().int().nonnegative().nullable(),
};

export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("job.queued"), id: z.string() }),
  z.object({ type: z.literal("job.started"), worker: z.string(), slot: z.number().int().nonnegative() }),
  z.object({ type: z.literal("step.started"), ...stepPlace }),
  z.object({
    type: z.literal("output"),
    ...stepPlace,
    stream: OutputStreamSchema,
    /** Bytes of this stream (of this step) before this piece. */
    offset: z.number().int().nonnegative(),
    /** UTF-8 decoded (invalid bytes become U+FFFD); a character is never split between pieces. */
    data: z.string(),
  }),
  z.object({ type: z.literal("step.finished"), ...stepPlace, step: StepSchema }),
  z.object({ type: z.literal("job.finished"), result: JobResultSchema }),
  /** The job ended without a result: cancelled, or given up by the queue. Ends the events. */
  z.object({ type: z.literal("job.failed"), error: z.object({ code: z.string(), message: z.string() }) }),
]);

export type Stage = z.infer<typeof StageSchema>;
export type OutputStream = z.infer<typeof OutputStreamSchema>;
export type JobEvent = z.infer<typeof JobEventSchema>;
/** An event as served: with its stream id. */
export type JobEventEntry = { id: string; event: JobEvent };

/** The last event of every job's stream. */
export function isFinalEvent(event: JobEvent): boolean {
  return event.type === "job.finished" || event.type === "job.failed";
}

/**
 * Entries kept per job's stream (XADD MAXLEN ~): a backstop. A step's output is already capped
 * by its outputBytes, and workers coalesce output into pieces of up to OUTPUT_PIECE_BYTES or
 * OUTPUT_PIECE_MS, so a real job stays far below it.
 */
export const JOB_EVENTS_MAX_ENTRIES = 20_000;
export const OUTPUT_PIECE_BYTES = 16_384;
export const OUTPUT_PIECE_MS = 5;

/** What a live client sends on to the running job (the /ws and Piston protocols' stdin, eof, signal). */
export const JobInputSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("stdin"), data: z.string() }),
  z.object({ type: z.literal("eof") }),
  z.object({
    type: z.literal("signal"),
    signal: z.enum(["SIGINT", "SIGTERM", "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]),
  }),
]);
export type JobInput = z.infer<typeof JobInputSchema>;
export type LiveSignalName = Extract<JobInput, { type: "signal" }>["signal"];

export const jobEventKeys = (prefix: string) => ({
  /** Stream of a job's events (JobEvent JSON in field "e"); expires RESULT_TTL_S after its last event. */
  events: (jobId: string) => `${prefix}:events:${jobId}`,
  /**
   * Stream of a live job's stdin and end of input (JobInput JSON in field "i"), in order; its worker
   * deletes what it has taken, so its length is what waits (the API's backpressure).
   */
  input: (jobId: string) => `${prefix}:input:${jobId}`,
  /** Stream of a live job's signals: apart from stdin, so a Ctrl-C is not stuck behind unread input. */
  signals: (jobId: string) => `${prefix}:signals:${jobId}`,
});
