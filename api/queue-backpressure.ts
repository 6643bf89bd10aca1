import type { Queue } from "bullmq";
import type { ApiSettings } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";

// Backpressure: refuse new work while too many jobs wait (MAX_QUEUED_JOBS, all keys together),
// instead of growing without bound. Counting costs a Redis script on every submission's critical
// path, so far from the limit a count at most DEPTH_REFRESH_MS old (plus this process's own
// additions since) is used; within 10 % of the limit every submission counts afresh, so the limit
// itself stays exact.

/** How old a waiting-jobs count may be when the queue is far from full. */
const DEPTH_REFRESH_MS = 100;

export class QueueBackpressure {
  /** The waiting-jobs count as last read, plus what this process enqueued since. */
  private depth = { value: 0, readAt: 0, addedSince: 0 };

  constructor(
    private readonly queue: Queue,
    private readonly api: Pick<ApiSettings, "MAX_QUEUED_JOBS" | "QUEUE_FULL_RETRY_AFTER_S">,
  ) {}

  /** Throws 503 E_QUEUE_FULL when `adding` more jobs would pass the limit. */
  async assertRoom(adding: number): Promise<void> {
    const estimate = this.depth.value + this.depth.addedSince + adding;
    const fresh = Date.now() - this.depth.readAt < DEPTH_REFRESH_MS;
    if (!fresh || estimate > this.api.MAX_QUEUED_JOBS * 0.9) {
      const counts = await this.queue.getJobCounts("waiting", "prioritized", "delayed");
      this.depth = {
        value: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
        readAt: Date.now(),
        addedSince: 0,
      };
    }
    const depth = this.depth.value + this.depth.addedSince;
    if (depth + adding > this.api.MAX_QUEUED_JOBS) {
      throw new ServiceError(
        "E_QUEUE_FULL",
        String(depth),
        { queued: depth },
        { "Retry-After": String(this.api.QUEUE_FULL_RETRY_AFTER_S) },
      );
    }
  }

  /** Counts jobs this process enqueued towards the cached waiting-jobs count. */
  noteEnqueued(count: number): void {
    this.depth.addedSince += count;
  }
}
