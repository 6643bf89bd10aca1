import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { QueueConfig, WorkerConfig } from "../config/load-config.ts";
import type { JobResult } from "../contract/job-result.ts";
import { CANCELLED_REASON } from "../contract/job-status.ts";
import { type QueuedJob, QueuedJobSchema, type redisKeys } from "../contract/queue.ts";
import type { CancelListener } from "./cancel-listener.ts";
import type { DispatchGate } from "./dispatch-gate.ts";
import { recordJobResult, recordQueueWait, recordSetupFailure } from "./record-job-metrics.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import { JobAbortedError, type RunSandbox, runJob, SandboxSetupError } from "./run-job.ts";
import type { SlotPool } from "./slot-pool.ts";

// What the BullMQ Worker calls for each job it takes. In order: parse the job data (the queue is a
// trust boundary), pass the dispatch gate (or hand the job back delayed), take a slot and a cancel
// controller, check the cancel mark, run, record metrics. Outcomes:
//   - a result (any verdict, including internal_error on the last attempt) → job completed;
//   - sandbox setup failure before the last attempt → throw, BullMQ retries with backoff;
//   - cancelled → UnrecoverableError(CANCELLED_REASON), never retried;
//   - shutdown deadline → a plain Error, so the job runs again elsewhere.

export interface JobProcessorDeps {
  redis: Redis;
  keys: ReturnType<typeof redisKeys>;
  settings: Pick<WorkerConfig, "worker" | "limits" | "sandbox"> & {
    queue: Pick<QueueConfig, "QUEUE_PREFIX">;
  };
  runSandbox: RunSandbox;
  uidBase: number;
  gate: DispatchGate;
  slots: SlotPool;
  cancels: CancelListener;
  log: Logger;
}

export function createJobProcessor(deps: JobProcessorDeps) {
  const { settings, log } = deps;
  const prefix = settings.queue.QUEUE_PREFIX;
  /** A metric must never fail a job: failures to record are logged. */
  const metric = (record: Promise<void>) =>
    void record.catch((error) => log.warn({ err: error }, "record metric failed"));

  /** Admits the job, or moves it back to the queue delayed and tells BullMQ so. */
  const admit = async (job: Job, jobId: string, queued: QueuedJob, token: string | undefined) => {
    const admission = await deps.gate.admit(jobId, queued);
    if (admission.admitted) return admission.language;
    log.debug({ jobId, reason: admission.reason }, "job handed back");
    await job.moveToDelayed(Date.now() + settings.worker.DISPATCH_RETRY_DELAY_MS, token);
    throw new DelayedError(admission.reason);
  };

  const run = async (job: Job, jobId: string, queued: QueuedJob, language: RunnableLanguage) => {
    const startedAt = Date.now();
    // Register before checking the mark: DELETE sets the mark, then publishes, so a cancel is seen
    // either here or by the listener.
    const controller = deps.cancels.register(jobId);
    const slot = deps.slots.acquire();
    try {
      // One round trip for both (ioredis sends them back to back): this is every job's critical path.
      const [, cancelled] = await Promise.all([
        deps.gate.started(jobId, queued),
        deps.redis.exists(deps.keys.cancelled(jobId)),
      ]);
      if (cancelled) throw new UnrecoverableError(CANCELLED_REASON);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const ctx = {
        settings,
        runSandbox: deps.runSandbox,
        slot,
        uidBase: deps.uidBase,
        signal: controller.signal,
        log,
      };
      const result = await runJob(jobId, queued.request, language, ctx, { throwOnSetupError: !lastAttempt });
      log.info(
        { jobId, keyId: queued.keyId, batchId: queued.batchId, verdict: result.verdict, slot },
        "job finished",
      );
      metric(recordJobResult(deps.redis, prefix, result, Date.now() - startedAt));
      if (result.verdict === "internal_error") metric(recordSetupFailure(deps.redis, prefix));
      return result;
    } catch (error) {
      if (error instanceof SandboxSetupError) metric(recordSetupFailure(deps.redis, prefix));
      throw queueErrorOf(error);
    } finally {
      deps.slots.release(slot);
      deps.cancels.unregister(jobId);
      await deps.gate
        .finished(jobId, queued)
        .catch((error) =>
          log.warn(
            { err: error, jobId, keyId: queued.keyId },
            "release running place failed; its lease expires",
          ),
        );
    }
  };

  return async (job: Job, token?: string): Promise<JobResult> => {
    const jobId = job.id;
    if (!jobId) throw new UnrecoverableError("a job without an id cannot be run");
    const parsed = QueuedJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.issues[0]?.message}`);
    const language = await admit(job, jobId, parsed.data, token);
    if (job.attemptsMade === 0 && job.stalledCounter === 0) {
      metric(recordQueueWait(deps.redis, prefix, parsed.data.band, Date.now() - job.timestamp));
    }
    return run(job, jobId, parsed.data, language);
  };
}

/** What BullMQ should do with a job whose run threw: cancels are final, shutdowns retry. */
function queueErrorOf(error: unknown): unknown {
  if (!(error instanceof JobAbortedError)) return error;
  if (error.reason === CANCELLED_REASON) return new UnrecoverableError(CANCELLED_REASON);
  return new Error("worker shut down while the job ran; it will be retried");
}
