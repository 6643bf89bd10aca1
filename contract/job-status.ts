import { assertNever } from "./assert-never.ts";
import type { JobStatus } from "./job-result.ts";

// The one mapping from a job's queue state to the status clients see (GET /jobs/:id, the job
// pages and counts of GET /batches/:id, webhook payloads). It used to be written twice, and the
// two copies disagreed about cancelled and vanished jobs.
//
// Precedence:
//   1. completed: a stored result is the truth, even when a DELETE raced with the job's end (the
//      cancel came too late to stop it; DELETE on a finished job answers 409 for the same reason);
//   2. cancelled: a cancel mark (set by DELETE before anything else), or a job failed with the
//      cancel reason (the worker aborted it) — also after the mark has expired;
//   3. the queue's own state;
//   4. "unknown" (BullMQ has no record): the job is gone — its record expired after RESULT_TTL_S or
//      an operator removed it. That is `null`, not a status: GET /jobs/:id answers 404 ("unknown,
//      or its result has expired"), and a batch, which must account for every job it holds, shows
//      a gone job as failed with the error below. A gone job never runs again, so a batch counting
//      it as queued would never finish.

/** Why a worker failed a job it aborted because of DELETE /jobs/:id (BullMQ's failedReason). */
export const CANCELLED_REASON = "cancelled";

/** BullMQ's job states (Queue.getJobState), "unknown" when there is no such job. */
export type QueueJobState =
  | "completed"
  | "failed"
  | "active"
  | "delayed"
  | "prioritized"
  | "waiting"
  | "waiting-children"
  | "unknown";

export interface JobStateFacts {
  state: QueueJobState;
  /** A cancel mark exists for the job. */
  cancelMarked: boolean;
  /** BullMQ's failedReason, for failed jobs. */
  failedReason?: string | undefined;
}

/** The job's status, or null when the job is gone. */
export function jobStatusOf(facts: JobStateFacts): JobStatus | null {
  const { state } = facts;
  if (state === "completed") return "completed";
  if (facts.cancelMarked || (state === "failed" && facts.failedReason === CANCELLED_REASON))
    return "cancelled";
  switch (state) {
    case "failed":
      return "failed";
    case "active":
      return "running";
    case "delayed":
    case "prioritized":
    case "waiting":
    case "waiting-children":
      return "queued";
    case "unknown":
      return null;
    default:
      return assertNever(state);
  }
}

/** The error a batch shows for a job that is gone (see 4. above). */
export const GONE_JOB_ERROR = {
  code: "E_JOB_GONE",
  message: "the job's record has expired or was removed",
} as const;

/** Whether a status is final: the job will not run (again). */
export function isFinalStatus(status: JobStatus): boolean {
  switch (status) {
    case "completed":
    case "failed":
    case "cancelled":
      return true;
    case "queued":
    case "running":
      return false;
    default:
      return assertNever(status);
  }
}
