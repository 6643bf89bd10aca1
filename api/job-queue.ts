import { createHash, randomUUID } from "node:crypto";
import { FlowProducer, type Job, type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { ServiceError } from "../contract/errors.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JobResult, JobView } from "../contract/job-result.ts";
import {
  COMPLETIONS_QUEUE_NAME,
  type PriorityBand,
  QUEUE_NAME,
  type QueuedJob,
  redisKeys,
} from "../contract/queue.ts";
import type { Caller } from "./api-keys.ts";
import { type CompletionData, callbackView, completionJobOptions } from "./completion-jobs.ts";
import type { CompletionWaiter } from "./completion-waiter.ts";
import { releaseReservations, reservePriorities } from "./fair-priority.ts";

// The API's side of the queue: submit (backpressure, quotas, fair priorities, idempotency), look
// up, cancel, wait. Job states map onto the contract's five statuses; a cancel marker key records
// cancellations, so a queued job that was removed still answers "cancelled" (until RESULT_TTL_S).
// A job with a callbackUrl is the only child of a flow parent in the completions queue, which
// BullMQ releases when the job finishes (completion-worker.ts delivers the webhook).

export const CANCELLED_REASON = "cancelled";
export const jobIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How old a waiting-jobs count may be when the queue is far from full (see assertRoom). */
const DEPTH_REFRESH_MS = 100;

export interface SubmitOptions {
  band: PriorityBand;
  caller: Caller;
  idempotencyKey?: string | undefined;
  callbackUrl?: string | undefined;
  /** Use this id (the caller is already watching for its completion); default: a new one. */
  id?: string;
}

export class JobQueue {
  readonly queue: Queue;
  readonly flows: FlowProducer;
  readonly completions: Queue;
  private readonly keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly waiter: CompletionWaiter,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis, prefix: config.QUEUE_PREFIX });
    this.queue.on("error", () => undefined);
    this.completions = new Queue(COMPLETIONS_QUEUE_NAME, { connection: redis, prefix: config.QUEUE_PREFIX });
    this.completions.on("error", () => undefined);
    this.flows = new FlowProducer({ connection: redis, prefix: config.QUEUE_PREFIX });
    this.flows.on("error", () => undefined);
    this.keys = redisKeys(config.QUEUE_PREFIX);
  }

  /** Options of every job in the jobs queue (single or batch). */
  jobOptions(id: string, priority: number): JobsOptions {
    const ttlS = this.config.RESULT_TTL_S;
    return {
      jobId: id,
      priority,
      attempts: this.config.JOB_ATTEMPTS,
      backoff: { type: "exponential", delay: this.config.JOB_BACKOFF_MS },
      removeOnComplete: { age: ttlS },
      removeOnFail: { age: ttlS },
      // A failed job must still release its flow parent (batch or callback), not hold it forever.
      ignoreDependencyOnFailure: true,
    };
  }

  /** Enqueues a job and returns its id; a repeated Idempotency-Key (per API key) returns the first job's id. */
  async submit(request: JobRequest, options: SubmitOptions): Promise<string> {
    const { caller, band } = options;
    let id: string = options.id ?? randomUUID();
    const idemKey = options.idempotencyKey
      ? this.keys.idempotency(`${caller.keyId}:${options.idempotencyKey}`)
      : null;
    if (idemKey && options.idempotencyKey) {
      const hash = createHash("sha256")
        .update(JSON.stringify([request, options.callbackUrl ?? null]))
        .digest("hex");
      const claimed = await this.redis.set(idemKey, `${id} ${hash}`, "EX", this.config.RESULT_TTL_S, "NX");
      if (claimed === null) {
        const [firstId, firstHash] = ((await this.redis.get(idemKey)) ?? "").split(" ");
        if (firstHash !== hash) throw new ServiceError("E_IDEMPOTENCY_MISMATCH", options.idempotencyKey);
        if (firstId) return firstId;
        id = randomUUID();
      }
    }
    let reserved = false;
    try {
      await this.assertRoom(1);
      const [priority] = await reservePriorities(this.redis, this.config, caller, band, [id]);
      reserved = true;
      const data: QueuedJob = {
        request,
        keyId: caller.keyId,
        band,
        maxRunningJobs: caller.limits.maxRunningJobs,
      };
      const opts = this.jobOptions(id, priority as number);
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
          opts: completionJobOptions(this.config, `job-${id}`, true),
          children: [{ name: "job", queueName: QUEUE_NAME, data, opts }],
        });
      } else {
        await this.queue.add("job", data, opts);
      }
      this.noteEnqueued(1);
    } catch (error) {
      // A key whose job was never enqueued must not pin later retries to a missing job.
      if (idemKey) await this.redis.del(idemKey);
      if (reserved) await releaseReservations(this.redis, this.config, caller.keyId, band, [id]);
      throw error;
    }
    return id;
  }

  /** The waiting-jobs count as last read, plus what this process enqueued since. */
  private depth = { value: 0, readAt: 0, addedSince: 0 };

  /** Counts jobs this process enqueued towards the cached waiting-jobs count. */
  noteEnqueued(count: number): void {
    this.depth.addedSince += count;
  }

  /**
   * Backpressure: refuse new work while too many jobs wait, instead of growing without bound.
   * Counting costs a Redis script on every submission's critical path, so far from the limit a
   * count at most DEPTH_REFRESH_MS old (plus this process's own additions since) is used; within
   * 10 % of the limit every submission counts afresh, so the limit itself stays exact.
   */
  async assertRoom(adding: number): Promise<void> {
    const estimate = this.depth.value + this.depth.addedSince + adding;
    const fresh = Date.now() - this.depth.readAt < DEPTH_REFRESH_MS;
    if (!fresh || estimate > this.config.MAX_QUEUED_JOBS * 0.9) {
      const counts = await this.queue.getJobCounts("waiting", "prioritized", "delayed");
      this.depth = {
        value: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        readAt: Date.now(),
        addedSince: 0,
      };
    }
    const depth = this.depth.value + this.depth.addedSince;
    if (depth + adding > this.config.MAX_QUEUED_JOBS) {
      throw new ServiceError(
        "E_QUEUE_FULL",
        String(depth),
        { queued: depth },
        { "Retry-After": String(this.config.QUEUE_FULL_RETRY_AFTER_S) },
      );
    }
  }

  async findJob(id: string): Promise<Job<QueuedJob> | undefined> {
    if (!jobIdPattern.test(id)) return undefined;
    return this.queue.getJob(id);
  }

  /**
   * The job's current view, or null when it is unknown, expired, or belongs to another API key
   * (answered as unknown, so ids of other keys' jobs cannot be probed).
   */
  async view(id: string, callerKeyId?: string): Promise<JobView | null> {
    if (!jobIdPattern.test(id)) return null;
    // State first, then the job: read the other way round, a job finishing in between would show
    // as completed with the return value of the moment before (null).
    const state = await this.queue.getJobState(id);
    const [job, cancelled] = await Promise.all([
      this.findJob(id),
      this.redis.exists(this.keys.cancelled(id)),
    ]);
    if (!job) return cancelled ? { id, status: "cancelled" } : null;
    if (callerKeyId !== undefined && job.data.keyId !== callerKeyId) return null;
    const extra: Partial<JobView> = {};
    if (job.data.batchId) extra.batchId = job.data.batchId;
    if (job.parentKey?.includes(`:${COMPLETIONS_QUEUE_NAME}:job-`)) {
      const callback = await callbackView(this.redis, this.config, this.completions, `job-${id}`);
      if (callback) extra.callback = callback;
    }
    if (state === "completed")
      return { id, status: "completed", result: job.returnvalue as JobResult, ...extra };
    if (cancelled || (state === "failed" && job.failedReason === CANCELLED_REASON))
      return { id, status: "cancelled", ...extra };
    switch (state) {
      case "failed":
        return { id, status: "failed", error: { code: "E_JOB_FAILED", message: job.failedReason }, ...extra };
      case "active":
        return { id, status: "running", ...extra };
      case "unknown":
        return null;
      default:
        return { id, status: "queued", ...extra };
    }
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
        return { id, status: "completed", result: wakeup.returnvalue as JobResult };
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
      return latest === null || isFinal(latest);
    };
    do {
      const wakeup = await this.waiter.wait(id, Math.max(0, deadline - Date.now()), isDone);
      // The completion event carries the result: answer from it without reading the job back
      // (two round trips on every POST /run's critical path).
      if (wakeup.event === "completed")
        return { id, status: "completed", result: wakeup.returnvalue as JobResult };
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
    // Marker first, then remove or publish: a worker picking a job up meanwhile sees the marker.
    const marks = this.redis.pipeline();
    for (const id of ids) marks.set(this.keys.cancelled(id), "1", "EX", this.config.RESULT_TTL_S);
    await marks.exec();
    await Promise.all(
      ids.map(async (id) => {
        const job = await this.findJob(id);
        if (!job || (await job.getState()) === "active") return;
        // Fails when the job became active meanwhile; the published cancel then reaches its worker.
        await job.remove().catch(() => undefined);
        await releaseReservations(this.redis, this.config, job.data.keyId, job.data.band, [id]);
      }),
    );
    const announce = this.redis.pipeline();
    for (const id of ids) announce.publish(this.keys.cancelChannel, id);
    await announce.exec();
  }

  async close(): Promise<void> {
    await this.flows.close();
    await this.completions.close();
    await this.queue.close();
  }
}

export function isFinal(view: JobView): boolean {
  return view.status === "completed" || view.status === "failed" || view.status === "cancelled";
}
