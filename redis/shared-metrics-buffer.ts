import type { Redis } from "ioredis";
import { redisKeys } from "../contract/queue.ts";
import { type Labels, observationIncrements, type SharedMetric } from "../contract/shared-metrics.ts";

// A worker's additions to the shared metrics hash, summed in memory and written every FLUSH_MS as
// one pipeline. Written per job, a job's queue-wait and run-time histograms and its verdict were
// ~34 HINCRBYFLOAT (every cumulative bucket an observation falls in): two thirds of all the
// commands a trivial job sent to Redis (bench:budget). Summed, a busy worker sends one increment
// per field it touched in the last second, whatever its job rate. The trade: /metrics lags by up
// to FLUSH_MS, and a worker that is killed outright loses at most that much of its additions (a
// clean shutdown flushes). Metrics are not results: no job's outcome depends on them.

/** How long additions wait in memory at most. */
export const SHARED_METRICS_FLUSH_MS = 1000;

export class SharedMetricsBuffer {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly onError: (error: Error) => void,
    private readonly flushMs = SHARED_METRICS_FLUSH_MS,
  ) {
    this.key = redisKeys(prefix).metrics;
  }

  /** Adds one observation (a counter's increment, a histogram's value). */
  add(metric: SharedMetric, labels: Labels, value = 1): void {
    for (const { field, by } of observationIncrements(metric, labels, value))
      this.pending.set(field, (this.pending.get(field) ?? 0) + by);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what is pending; failures go to onError (the additions are dropped, never retried twice). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [field, by] of this.pending) pipeline.hincrbyfloat(this.key, field, by);
    this.pending = new Map();
    try {
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error)?.[0];
      if (failed) this.onError(failed);
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
