import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { QueueConfig } from "../config/load-config.ts";
import { redisKeys, type WorkerHeartbeat } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import type { StatusSample } from "../contract/status.ts";
import { sharedMetricValues } from "../redis/shared-metrics-store.ts";
import { liveWorkers } from "./worker-registry.ts";

// The service as it stands now, from the same sources as GET /metrics and GET /workers: BullMQ's
// job counts, the workers' heartbeats and the fleet-wide metrics hash. One read of each, so a
// status sample costs three round trips whatever the size of the fleet.

export interface StatusNow {
  sample: StatusSample;
  workers: WorkerHeartbeat[];
  queue: { depth: number; waiting: number; prioritized: number; delayed: number; active: number };
}

export async function readStatusNow(
  redis: Redis,
  settings: Pick<QueueConfig, "QUEUE_PREFIX" | "HEARTBEAT_INTERVAL_MS">,
  jobsQueue: Queue,
): Promise<StatusNow> {
  const [counts, workers, metrics] = await Promise.all([
    jobsQueue.getJobCounts("waiting", "prioritized", "delayed", "active"),
    liveWorkers(redis, settings),
    redis.hgetall(redisKeys(settings.QUEUE_PREFIX).metrics),
  ]);
  const queue = {
    waiting: counts.waiting ?? 0,
    prioritized: counts.prioritized ?? 0,
    delayed: counts.delayed ?? 0,
    active: counts.active ?? 0,
    depth: 0,
  };
  queue.depth = queue.waiting + queue.prioritized + queue.delayed;

  const verdicts: Record<string, number> = {};
  for (const { labels, value } of sharedMetricValues(metrics, sharedMetrics.verdicts)) {
    const verdict = labels.verdict ?? "";
    verdicts[verdict] = (verdicts[verdict] ?? 0) + value;
  }
  const wait = sharedMetricValues(metrics, sharedMetrics.queueWait);
  const total = (suffix: string) =>
    wait.filter((entry) => entry.suffix === suffix).reduce((sum, entry) => sum + entry.value, 0);
  const setupFailures = sharedMetricValues(metrics, sharedMetrics.setupFailures).reduce(
    (sum, entry) => sum + entry.value,
    0,
  );

  const sample: StatusSample = {
    atMs: Date.now(),
    queueDepth: queue.depth,
    activeJobs: queue.active,
    workers: workers.length,
    slots: workers.reduce((sum, w) => sum + w.slots, 0),
    busySlots: workers.reduce((sum, w) => sum + w.busySlots, 0),
    verdicts,
    queueWaitSumS: total("sum"),
    queueWaitCount: total("count"),
    setupFailures,
  };
  return { sample, workers, queue };
}
