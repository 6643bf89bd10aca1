import { createHash, randomUUID } from "node:crypto";
import { type Job, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { ServiceError } from "../contract/errors.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JobResult, JobView } from "../contract/job-result.ts";
import { PRIORITY_BATCH, PRIORITY_INTERACTIVE, QUEUE_NAME, redisKeys } from "../contract/queue.ts";
import type { CompletionWaiter } from "./completion-waiter.ts";

// The API's side of the queue: submit (with backpressure and idempotency), look up, cancel, wait.
// Job states map onto the contract's five statuses; a cancel marker key records cancellations, so a
// queued job that was removed still answers "cancelled" (until RESULT_TTL_S passes).

export const CANCELLED_REASON = "cancelled";
const jobIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SubmitOptions {
  interactive: boolean;
  idempotencyKey?: string;
}

export class JobQueue {
  private readonly queue: Queue;
  private readonly keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly waiter: CompletionWaiter,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis, prefix: config.QUEUE_PREFIX });
    this.queue.on("error", () => undefined);
    this.keys = redisKeys(config.QUEUE_PREFIX);
  }

  /** Enqueues a job and returns its id; a repeated Idempotency-Key returns the first job's id. */
  async submit(request: JobRequest, options: SubmitOptions): Promise<string> {
    const ttlS = this.config.RESULT_TTL_S;
    let id: string = randomUUID();
    const idemKey = options.idempotencyKey ? this.keys.idempotency(options.idempotencyKey) : null;
    if (idemKey && options.idempotencyKey) {
      const hash = createHash("sha256").update(JSON.stringify(request)).digest("hex");
      const claimed = await this.redis.set(idemKey, `${id} ${hash}`, "EX", ttlS, "NX");
      if (claimed === null) {
        const [firstId, firstHash] = ((await this.redis.get(idemKey)) ?? "").split(" ");
        if (firstHash !== hash) throw new ServiceError("E_IDEMPOTENCY_MISMATCH", options.idempotencyKey);
        if (firstId) return firstId;
        id = randomUUID();
      }
    }
    try {
      await this.assertRoom();
      await this.queue.add("job", request, {
        jobId: id,
        priority: options.interactive ? PRIORITY_INTERACTIVE : PRIORITY_BATCH,
        attempts: this.config.JOB_ATTEMPTS,
        backoff: { type: "exponential", delay: this.config.JOB_BACKOFF_MS },
        removeOnComplete: { age: ttlS },
        removeOnFail: { age: ttlS },
      });
    } catch (error) {
      // A key whose job was never enqueued must not pin later retries to a missing job.
      if (idemKey) await this.redis.del(idemKey);
      throw error;
    }
    return id;
  }

  /** Backpressure: refuse new work while too many jobs wait, instead of growing without bound. */
  private async assertRoom(): Promise<void> {
    const counts = await this.queue.getJobCounts("waiting", "prioritized", "delayed");
    const depth = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    if (depth >= this.config.MAX_QUEUED_JOBS) {
      throw new ServiceError(
        "E_QUEUE_FULL",
        String(depth),
        { queued: depth },
        { "Retry-After": String(this.config.QUEUE_FULL_RETRY_AFTER_S) },
      );
    }
  }

  private async findJob(id: string): Promise<Job | undefined> {
    if (!jobIdPattern.test(id)) return undefined;
    return this.queue.getJob(id);
  }

  /** The job's current view, or null when it is unknown (or expired). */
  async view(id: string): Promise<JobView | null> {
    const [job, cancelled] = await Promise.all([
      this.findJob(id),
      this.redis.exists(this.keys.cancelled(id)),
    ]);
    if (!job) return cancelled ? { id, status: "cancelled" } : null;
    const state = await job.getState();
    if (state === "completed") return { id, status: "completed", result: job.returnvalue as JobResult };
    if (cancelled || (state === "failed" && job.failedReason === CANCELLED_REASON))
      return { id, status: "cancelled" };
    switch (state) {
      case "failed":
        return { id, status: "failed", error: { code: "E_JOB_FAILED", message: job.failedReason } };
      case "active":
        return { id, status: "running" };
      case "unknown":
        return null;
      default:
        return { id, status: "queued" };
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
      await this.waiter.wait(id, Math.max(0, deadline - Date.now()), isDone);
      if (await isDone()) break;
    } while (Date.now() < deadline);
    return latest;
  }

  /** Cancels: a queued job is removed, a running one has its sandbox killed by its worker. */
  async cancel(id: string): Promise<JobView> {
    const view = await this.view(id);
    if (!view) throw new ServiceError("E_JOB_NOT_FOUND", id);
    if (view.status === "cancelled") return view;
    if (view.status === "completed" || view.status === "failed") throw new ServiceError("E_JOB_FINISHED", id);
    // Marker first, then remove or publish: a worker picking the job up meanwhile sees the marker.
    await this.redis.set(this.keys.cancelled(id), "1", "EX", this.config.RESULT_TTL_S);
    const job = await this.findJob(id);
    if (job && view.status === "queued") {
      // Fails when the job became active meanwhile; the published cancel then reaches its worker.
      await job.remove().catch(() => undefined);
    }
    await this.redis.publish(this.keys.cancelChannel, id);
    return { id, status: "cancelled" };
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export function isFinal(view: JobView): boolean {
  return view.status === "completed" || view.status === "failed" || view.status === "cancelled";
}
