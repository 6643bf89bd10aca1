import { z } from "zod";
import { WorkerHeartbeatSchema } from "./queue.ts";

// What the operations page (GET /status, reading GET /status.json) shows, and the two records
// behind it that travel through Redis:
//   - a status sample: written by API processes every STATUS_SAMPLE_INTERVAL_MS (one per interval
//     for the whole fleet, whichever process writes first), holding instantaneous values (queue
//     depth, slots) and the fleet-wide counters as they stood (verdicts, queue-wait sum and count).
//     Rates and average waits over an interval are differences of two neighbouring samples, so no
//     process has to remember anything and a restarted API process loses nothing.
//   - a setup-failure record: written by the worker whose sandbox failed to set up, kept in a
//     short list, because a count alone does not tell an operator where to look.

/** How much history GET /status.json returns (and how long samples live in Redis). */
export const STATUS_HISTORY_MS = 15 * 60_000;
/** Setup-failure records kept. */
export const SETUP_FAILURES_KEPT = 20;

export const StatusSampleSchema = z.object({
  atMs: z.number(),
  /** Jobs waiting for a worker: waiting + prioritized + delayed (cellblock_queue_depth). */
  queueDepth: z.number(),
  activeJobs: z.number(),
  workers: z.number(),
  slots: z.number(),
  busySlots: z.number(),
  /** Finished jobs by verdict since the metrics hash began (cumulative). */
  verdicts: z.record(z.string(), z.number()),
  /** Queue-wait histogram's sum (seconds) and count, all bands (cumulative). */
  queueWaitSumS: z.number(),
  queueWaitCount: z.number(),
  setupFailures: z.number(),
});

export type StatusSample = z.infer<typeof StatusSampleSchema>;

export const SetupFailureRecordSchema = z.object({
  atMs: z.number(),
  jobId: z.string(),
  language: z.string(),
  host: z.string(),
  /** The sandbox's own words: which setup step failed and the errno. */
  error: z.string(),
  /** True when the queue will retry the job (an earlier attempt than the last). */
  retried: z.boolean(),
});

export type SetupFailureRecord = z.infer<typeof SetupFailureRecordSchema>;

/** One point of a chart: a sample, with rates over the minute before it (api/status-history.ts). */
export const StatusPointSchema = z.object({
  atMs: z.number(),
  queueDepth: z.number(),
  busySlots: z.number(),
  slots: z.number(),
  /** Jobs finished per minute over the trailing minute. */
  jobsPerMinute: z.number(),
  /** Mean queue wait of the jobs that started in the trailing minute; null when none started. */
  meanQueueWaitMs: z.number().nullable(),
});

export type StatusPoint = z.infer<typeof StatusPointSchema>;

/** GET /status.json. */
export const StatusViewSchema = z.object({
  nowMs: z.number(),
  sampleIntervalMs: z.number(),
  /** Workers beat this often; one is dropped from `workers` after three missed beats. */
  heartbeatIntervalMs: z.number(),
  workers: z.array(WorkerHeartbeatSchema),
  queue: z.object({
    depth: z.number(),
    waiting: z.number(),
    prioritized: z.number(),
    delayed: z.number(),
    active: z.number(),
  }),
  /** Verdicts of the jobs finished within the history window (from the oldest sample to now). */
  recentVerdicts: z.record(z.string(), z.number()),
  /** Cumulative counters as of now. */
  totals: z.object({ verdicts: z.record(z.string(), z.number()), setupFailures: z.number() }),
  history: z.array(StatusPointSchema),
  setupFailures: z.array(SetupFailureRecordSchema),
});

export type StatusView = z.infer<typeof StatusViewSchema>;
