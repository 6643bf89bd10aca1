import { randomUUID } from "node:crypto";
import { FlowProducer, type Job, type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ApiSettings, QueueConfig, WebhookConfig } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";
import { jobEventKeys } from "../contract/job-events.ts";
import type { JobRequest } from "../contract/job-request.ts";
import { JobResultSchema, type JobStatus, type JobView } from "../contract/job-result.ts";
import { isFinalStatus, jobStatusOf } from "../contract/job-status.ts";
import {
  COMPLETIONS_QUEUE_NAME,
  type CompletionData,
  type PriorityBand,
  QUEUE_NAME,
  type QueuedJob,
  QueuedJobOwnerSchema,
  redisKeys,
} from "../contract/queue.ts";
import { appendJobEvents } from "../redis/job-event-log.ts";
import type { Caller } from "./api-keys.ts";
import { callbackView, completionJobOptions } from "./completion-jobs.ts";
import type { CompletionWaiter } from "./completion-waiter.ts";
import { releaseReservations, reservePriorities } from "./fair-priority.ts";
import { IdempotencyKeys } from "./idempotency.ts";
import { QueueBackpressure } from "./queue-backpressure.ts";

// The API's side of the queue: submit (backpressure, quotas, fair priorities, idempotency), look
// up, cancel, wait. Job states map onto the contract's five statuses in one place
// (contract/job-status.ts); a cancel mark records cancellations, so a queued job that was removed
// still answers "cancelled" (until RESULT_TTL_S). A job with a callbackUrl is the only child of a
// flow parent in the completions queue, which BullMQ releases when the job finishes
// (completion-worker.ts delivers the webhook). Everything read back from Redis is parsed with the
// contract's schemas: the owner of a job, its result.

export const jobIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SubmitOptions {
  band: PriorityBand;
  caller: Caller;
  idempotencyKey?: string | undefined;
  callbackUrl?: string | undefined;
  /** Use this id (the caller is already watching for its completion); default: a new one. */
  id?: string;
  /** A live job: its run step takes stdin and signals from Redis (/ws). */
  live?: boolean;
}

export interface JobQueueSettings {
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S" | "JOB_ATTEMPTS" | "JOB_BACKOFF_MS">;
  api: Pick<ApiSettings, "MAX_QUEUED_JOBS" | "QUEUE_FULL_RETRY_AFTER_S" | "QUOTA_RETRY_AFTER_S">;
  webhooks: Pick<WebhookConfig, "WEBHOOK_ATTEMPTS" | "WEBHOOK_BACKOFF_MS">;
}

export class JobQueue {
  readonly queue: Queue;
  readonly flows: FlowProducer;
  readonly completions: Queue;
  readonly backpressure: QueueBackpressure;
  private readonly idempotency: IdempotencyKeys;
  private readonly keys: ReturnType<typeof redisKeys>;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly settings: JobQueueSettings,
    private readonly waiter: CompletionWaiter,
    private readonly log: Logger,
  ) {
    this.prefix = settings.queue.QUEUE_PREFIX;
    const connection = { connection: redis, prefix: this.prefix };
    this.queue = new Queue(QUEUE_NAME, connection);
    this.completions = new Queue(COMPLETIONS_QUEUE_NAME, connection);
    this.flows = new FlowProducer(connection);
    // Connection errors surface here (ioredis reconnects by itself); the request that hit one fails
    // with its own error, this says why.
    const logError = (queue: string) => (error: Error) =>
      log.error({ err: error, queue }, "queue connection error");
    this.queue.on("error", logError(QUEUE_NAME));
    this.completions.on("error", logError(COMPLETIONS_QUEUE_NAME));
    this.flows.on("error", logError("flows"));
    this.backpressure = new QueueBackpressure(this.queue, settings.api);
    this.idempotency = new IdempotencyKeys(redis, settings.queue);
    this.keys = redisKeys(this.prefix);
  }

  /** Options of every job in the jobs queue (single or batch). */
  jobOptions(id: string, priority: number): JobsOptions {
    const { queue } = this.settings;
    return {
      jobId: id,
      priority,
      attempts: queue.JOB_ATTEMPTS,
      backoff: { type: "exponential", delay: queue.JOB_BACKOFF_MS },
      removeOnComplete: { age: queue.RESULT_TTL_S },
      removeOnFail: { age: queue.RESULT_TTL_S },
      // A failed job must still release its flow parent (batch or callback), not hold it forever.
      ignoreDependencyOnFailure: true,
    };
  }

  /** Enqueues a job and returns its id; a repeated Idempotency-Key (per API key) returns the first job's id. */
  async submit(request: JobRequest, options: SubmitOptions): Promise<string> {
    const id = options.id ?? randomUUID();
    const claim = options.idempotencyKey
      ? await this.idempotency.claim(options.caller.keyId, options.idempotencyKey, id, [
          request,
          options.callbackUrl ?? null,
        ])
      : null;
    if (claim?.kind === "replay") return claim.jobId;
    try {
      await this.enqueue(id, request, options);
    } catch (error) {
      await claim?.release();
      throw error;
    }
    return id;
  }

  /** Room, priority, then the job itself (under a flow parent when it has a callback). */
  private async enqueue(id: string, request: JobRequest, options: SubmitOptions): Promise<void> {
    const { caller, band } = options;
    await this.backpressure.assertRoom(1);
    const [priority = 0] = await reservePriorities(this.redis, this.settings, caller, band, [id]);
    try {
      const data: QueuedJob = {
        request,
        keyId: caller.keyId,
        band,
        maxRunningJobs: caller.limits.maxRunningJobs,
        ...(options.live ? { live: true } : {}),
      };
      const opts = this.jobOptions(id, priority);
      // Sent ahead of the job on this connection, so it is the job's first event; not awaited.
      appendJobEvents(
        this.redis,
        jobEventKeys(this.prefix).events(id),
        [{ type: "job.queued", id }],
        this.settings.queue.RESULT_TTL_S,
        (error) => this.log.warn({ err: error, jobId: id }, "append job.queued failed"),
      );
      if (options.callbackUrl) {
        const parent: CompletionData = {
          kind: "job",
          ownerId: id,
          keyId: caller.keyId,
          url: options.callbackUrl,
        };
        await this.flows.add({
          name: "job-callback",
          queueName: COMPLETIONS_QUEUE_NAME,
          data: parent,
          opts: completionJobOptions(this.settings, `job-${id}`, true),
          children: [{ name: "job", queueName: QUEUE_NAME, data, opts }],
        });
      } else {
        await this.queue.add("job", data, opts);
      }
    } catch (error) {
      await releaseReservations(this.redis, this.prefix, caller.keyId, band, [id]);
      throw error;
    }
    this.backpressure.noteEnqueued(1);
  }

  /**
   * The job's current view, or null when it is gone (unknown, expired) or belongs to another API
   * key (answered as unknown, so ids of other keys' jobs cannot be probed).
   */
  async view(id: string, callerKeyId?: string): Promise<JobView | null> {
    if (!jobIdPattern.test(id)) return null;
    // State first, then the job: read the other way round, a job finishing in between would show
    // as completed with the return value of the moment before (null).
    const state = await this.queue.getJobState(id);
    const [job, cancelMarked] = await Promise.all([
      this.queue.getJob(id),
      this.redis.exists(this.keys.cancelled(id)),
    ]);
    const status = jobStatusOf({
      state: job ? state : "unknown",
      cancelMarked: cancelMarked === 1,
      failedReason: job?.failedReason,
    });
    if (status === null) return null;
    if (!job) return { id, status };
    const owner = QueuedJobOwnerSchema.safeParse(job.data);
    if (callerKeyId !== undefined && (!owner.success || owner.data.keyId !== callerKeyId)) return null;
    const outcome: Partial<JobView> =
      status === "completed"
        ? { result: JobResultSchema.parse(job.returnvalue) }
        : status === "failed"
          ? { error: { code: "E_JOB_FAILED", message: job.failedReason } }
          : {};
    return { id, status, ...outcome, ...(await this.viewExtras(job, owner.data?.batchId)) };
  }

  /** The batch and webhook delivery parts of a job's view. */
  private async viewExtras(job: Job, batchId: string | undefined): Promise<Partial<JobView>> {
    const extra: Partial<JobView> = {};
    if (batchId) extra.batchId = batchId;
    if (job.parentKey?.includes(`:${COMPLETIONS_QUEUE_NAME}:job-`)) {
      const callback = await callbackView(this.redis, this.prefix, this.completions, `job-${job.id}`);
      if (callback) extra.callback = callback;
    }
    return extra;
  }

  /** Statuses of many jobs (null = gone), from one round of state lookups. */
  async statuses(ids: string[]): Promise<(JobStatus | null)[]> {
    const marks = this.redis.pipeline();
    for (const id of ids) marks.exists(this.keys.cancelled(id));
    const [states, cancelled] = await Promise.all([
      Promise.all(ids.map((id) => this.queue.getJobState(id))),
      marks.exec(),
    ]);
    return Promise.all(
      ids.map(async (id, i) => {
        const state = states[i] ?? "unknown";
        const cancelMarked = cancelled?.[i]?.[1] === 1;
        // Only a failed job needs its reason: a worker's cancel fails it with CANCELLED_REASON.
        const failedReason =
          state === "failed" && !cancelMarked ? (await this.queue.getJob(id))?.failedReason : undefined;
        return jobStatusOf({ state, cancelMarked, failedReason });
      }),
    );
  }

  /**
   * POST /run's path: enqueue under an id whose completion is watched from before it exists, then
   * wait up to timeoutMs. A completion answers from its event; anything else reads the job once.
   * An Idempotency-Key replay returns an older job, which is waited for the general way.
   */
  async submitAndWait(request: JobRequest, options: SubmitOptions, timeoutMs: number): Promise<JobView> {
    const id = randomUUID();
    const watch = this.waiter.watch(id);
    try {
      const submitted = await this.submit(request, { ...options, id });
      if (submitted !== id)
        return (await this.waitForView(submitted, timeoutMs)) ?? { id: submitted, status: "queued" };
      const wakeup = await watch.wakeup(timeoutMs);
      if (wakeup.event === "completed")
        return { id, status: "completed", result: JobResultSchema.parse(wakeup.returnvalue) };
      return (await this.view(id)) ?? { id, status: "queued" };
    } finally {
      watch.dispose();
    }
  }

  /** Waits up to timeoutMs for the job to finish; returns its latest view. */
  async waitForView(id: string, timeoutMs: number): Promise<JobView | null> {
    const deadline = Date.now() + timeoutMs;
    let latest: JobView | null = null;
    const isDone = async () => {
      latest = await this.view(id);
      return latest === null || isFinalStatus(latest.status);
    };
    do {
      const wakeup = await this.waiter.wait(id, Math.max(0, deadline - Date.now()), isDone);
      // The completion event carries the result: answer from it without reading the job back
      // (two round trips on every POST /run's critical path).
      if (wakeup.event === "completed")
        return { id, status: "completed", result: JobResultSchema.parse(wakeup.returnvalue) };
      if (wakeup.event === "done" || (await isDone())) break;
    } while (Date.now() < deadline);
    return latest;
  }

  /** Cancels: a queued job is removed, a running one has its sandbox killed by its worker. */
  async cancel(id: string, callerKeyId?: string): Promise<JobView> {
    const view = await this.view(id, callerKeyId);
    if (!view) throw new ServiceError("E_JOB_NOT_FOUND", id);
    if (view.status === "cancelled") return view;
    if (view.status === "completed" || view.status === "failed") throw new ServiceError("E_JOB_FINISHED", id);
    await this.cancelUnfinished([id]);
    return { id, status: "cancelled" };
  }

  /** Marks, removes (if still queued) and announces the cancellation of jobs that have not finished. */
  async cancelUnfinished(ids: string[]): Promise<void> {
    // Mark first, then remove or publish: a worker picking a job up meanwhile sees the mark.
    const marks = this.redis.pipeline();
    for (const id of ids) marks.set(this.keys.cancelled(id), "1", "EX", this.settings.queue.RESULT_TTL_S);
    await marks.exec();
    await Promise.all(ids.map((id) => this.removeQueued(id)));
    const announce = this.redis.pipeline();
    for (const id of ids) announce.publish(this.keys.cancelChannel, id);
    await announce.exec();
  }

  /** Removes a cancelled job that is still queued and gives back its fair-share reservation. */
  private async removeQueued(id: string): Promise<void> {
    const job = jobIdPattern.test(id) ? await this.queue.getJob(id) : undefined;
    if (!job || (await job.getState()) === "active") return;
    try {
      await job.remove();
    } catch (error) {
      // BullMQ refuses to remove a job a worker has locked: it became active meanwhile (the
      // announced cancel reaches that worker), or even finished. A job still waiting is a real failure.
      if (jobStatusOf({ state: await job.getState(), cancelMarked: false }) === "queued") throw error;
    }
    const owner = QueuedJobOwnerSchema.parse(job.data);
    await releaseReservations(this.redis, this.prefix, owner.keyId, owner.band, [id]);
  }

  async close(): Promise<void> {
    await this.flows.close();
    await this.completions.close();
    await this.queue.close();
  }
}
