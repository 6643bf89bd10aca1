import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { QueueConfig, WorkerConfig } from "../config/load-config.ts";
import type { JobResult } from "../contract/job-result.ts";
import { CANCELLED_REASON } from "../contract/job-status.ts";
import { type QueuedJob, QueuedJobSchema, type redisKeys } from "../contract/queue.ts";
import type { SharedMetricsBuffer } from "../redis/shared-metrics-buffer.ts";
import type { CancelListener } from "./cancel-listener.ts";
import type { DispatchGate } from "./dispatch-gate.ts";
import { JobEvents } from "./job-step-events.ts";
import { recordJobResult, recordQueueWait, recordSetupFailure } from "./record-job-metrics.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import { JobAbortedError, type RunSandbox, runJob, SandboxSetupError } from "./run-job.ts";
import type { SlotPool } from "./slot-pool.ts";
import type { JudgeLanguages } from "./step-context.ts";

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
    queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">;
  };
  /** This worker's id, named in each job's started event. */
  workerId: string;
  runSandbox: RunSandbox;
  uidBase: number;
  gate: DispatchGate;
  slots: SlotPool;
  cancels: CancelListener;
  /** The worker's additions to the shared metrics, written once a second. */
  metrics: SharedMetricsBuffer;
  log: Logger;
}

export class JobProcessor {
  private readonly prefix: string;

  constructor(private readonly deps: JobProcessorDeps) {
    this.prefix = deps.settings.queue.QUEUE_PREFIX;
  }

  /** The BullMQ processor function. */
  readonly process = async (job: Job, token?: string): Promise<JobResult> => {
    const jobId = job.id;
    if (!jobId) throw new UnrecoverableError("a job without an id cannot be run");
    const parsed = QueuedJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.issues[0]?.message}`);
    const admission = await this.admit(job, jobId, parsed.data, token);
    if (job.attemptsMade === 0 && job.stalledCounter === 0)
      recordQueueWait(this.deps.metrics, parsed.data.band, Date.now() - job.timestamp);
    return this.run(job, jobId, parsed.data, admission);
  };

  /** Admits the job, or moves it back to the queue delayed and tells BullMQ so. */
  private async admit(job: Job, jobId: string, queued: QueuedJob, token: string | undefined) {
    const admission = await this.deps.gate.admit(jobId, queued);
    if (admission.admitted) return admission;
    this.deps.log.debug({ jobId, reason: admission.reason }, "job handed back");
    await job.moveToDelayed(Date.now() + this.deps.settings.worker.DISPATCH_RETRY_DELAY_MS, token);
    throw new DelayedError(admission.reason);
  }

  private async run(
    job: Job,
    jobId: string,
    queued: QueuedJob,
    { language, judgeLanguages }: { language: RunnableLanguage; judgeLanguages: JudgeLanguages },
  ): Promise<JobResult> {
    const { deps } = this;
    const startedAt = Date.now();
    // Register before checking the mark: DELETE sets the mark, then publishes, so a cancel is seen
    // either here or by the listener.
    const controller = deps.cancels.register(jobId);
    // Waits only while one of this worker's slots is lent to another job's test (slot-pool.ts).
    const slot = await deps.slots.acquire();
    const { QUEUE_PREFIX, RESULT_TTL_S } = deps.settings.queue;
    const events = new JobEvents(
      deps.redis,
      QUEUE_PREFIX,
      jobId,
      RESULT_TTL_S,
      queued.live === true,
      deps.log,
    );
    // Leaving the key's backlog and reading the cancel mark go out now, but the run does not wait
    // for their round trip (every job's critical path): a mark found set aborts the run exactly
    // as a cancel heard on the channel does, and is checked again once the run is over, so a job
    // cancelled before it started never reports a result. A failed read fails the job after its
    // run (BullMQ retries it), as it failed it before the run.
    const startup = deps.redis.pipeline();
    deps.gate.started(startup, jobId, queued);
    startup.exists(deps.keys.cancelled(jobId));
    // Settles with the failure, if any (never rejects: it is awaited only after the run).
    const checkFailed: Promise<{ error: unknown } | undefined> = startup.exec().then(
      (replies) => {
        const failed = replies
          ? replies.find(([error]) => error)?.[0]
          : new Error("the start-up pipeline was not run");
        if (failed) return { error: failed };
        if (replies?.at(-1)?.[1] === 1) controller.abort(CANCELLED_REASON);
        return undefined;
      },
      (error: unknown) => ({ error }),
    );
    try {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const { settings, runSandbox, uidBase, log } = deps;
      events.writer.started(deps.workerId, slot);
      const ctx = {
        settings,
        runSandbox,
        uidBase,
        log,
        slot,
        signal: controller.signal,
        judgeLanguages,
        events,
        // A live job's one input stream belongs to one run at a time: its tests stay on its slot.
        ...(queued.live === true ? {} : { lender: deps.slots }),
      };
      const result = await runJob(jobId, queued.request, language, ctx, { throwOnSetupError: !lastAttempt });
      const failed = await checkFailed;
      if (failed) throw failed.error;
      if (controller.signal.reason === CANCELLED_REASON) throw new JobAbortedError(CANCELLED_REASON);
      events.writer.finished(result);
      const { keyId, batchId } = queued;
      deps.log.info({ jobId, keyId, batchId, verdict: result.verdict, slot }, "job finished");
      recordJobResult(deps.metrics, result, Date.now() - startedAt);
      if (result.verdict === "internal_error") {
        const error =
          [result.compile, ...result.runs].find((step) => step?.verdict === "internal_error")?.error ??
          "unknown step";
        this.setupFailure({ jobId, language: queued.request.language, error, retried: false });
      }
      return result;
    } catch (error) {
      if (error instanceof SandboxSetupError) {
        const detail = error.step.error ?? "unknown step";
        this.setupFailure({ jobId, language: queued.request.language, error: detail, retried: true });
      }
      const outcome = queueErrorOf(error);
      if (outcome instanceof UnrecoverableError) {
        const cancelled = outcome.message === CANCELLED_REASON;
        events.writer.failed(cancelled ? "E_JOB_CANCELLED" : "E_JOB_FAILED", outcome.message);
      }
      throw outcome;
    } finally {
      void events.close();
      deps.slots.release(slot);
      deps.cancels.unregister(jobId);
      // Not awaited: the release goes out on this connection ahead of BullMQ's moveToFinished, so
      // Redis still frees the place before it records the job as finished, without the job's
      // result waiting one more round trip for it.
      deps.gate.finished(jobId, queued).catch((error) => {
        deps.log.warn(
          { err: error, jobId, keyId: queued.keyId },
          "release running place failed; its lease expires",
        );
      });
    }
  }

  private setupFailure(failure: Parameters<typeof recordSetupFailure>[2]): void {
    this.metric(recordSetupFailure(this.deps.redis, this.prefix, failure));
  }

  /** A metric must never fail a job: failures to record are logged. */
  private metric(record: Promise<void>): void {
    record.catch((error) => this.deps.log.warn({ err: error }, "record metric failed"));
  }
}

/** What BullMQ should do with a job whose run threw: cancels are final, shutdowns retry. */
function queueErrorOf(error: unknown): unknown {
  if (!(error instanceof JobAbortedError)) return error;
  if (error.reason === CANCELLED_REASON) return new UnrecoverableError(CANCELLED_REASON);
  return new Error("worker shut down while the job ran; it will be retried");
}
