import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { QueueConfig } from "../config/load-config.ts";
import { PRIORITY_BATCH, QUEUE_NAME } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import { renderSharedMetrics } from "../redis/shared-metrics-store.ts";
import { liveWorkers } from "./worker-registry.ts";

// GET /metrics. Three sources, all read at scrape time:
//   - queue depth by state (and by priority band for the prioritized set) straight from BullMQ;
//   - workers alive and busy/free slots from the heartbeats;
//   - fleet-wide counters and histograms that workers and API processes add to in Redis
//     (contract/shared-metrics.ts): verdicts, queue wait, run time, setup failures, webhooks.
// The API process's own default metrics (CPU, memory, event loop) come with prom-client.
// `cellblock_queue_depth` (waiting + prioritized + delayed jobs) is the autoscaling signal.

const states = [
  "waiting",
  "prioritized",
  "active",
  "delayed",
  "completed",
  "failed",
  "waiting-children",
] as const;

export function createMetrics(
  redis: Redis,
  settings: Pick<QueueConfig, "QUEUE_PREFIX" | "HEARTBEAT_INTERVAL_MS">,
  queues: Queue[],
) {
  const prefix = settings.QUEUE_PREFIX;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cellblock_api_" });

  const queueJobs = new Gauge({
    name: "cellblock_queue_jobs",
    help: "Jobs per queue and state; the prioritized state also per priority band",
    labelNames: ["queue", "state", "band"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...states);
        for (const state of states)
          queueJobs.set({ queue: queue.name, state, band: "all" }, counts[state] ?? 0);
        // Prioritized scores are priority · 2^32 + a counter (BullMQ's layout), so bands are score ranges.
        const zset = `${prefix}:${queue.name}:prioritized`;
        const split = PRIORITY_BATCH * 0x100000000;
        const [interactive, batch] = await Promise.all([
          redis.zcount(zset, "-inf", `(${split}`),
          redis.zcount(zset, split, "+inf"),
        ]);
        queueJobs.set({ queue: queue.name, state: "prioritized", band: "interactive" }, interactive);
        queueJobs.set({ queue: queue.name, state: "prioritized", band: "batch" }, batch);
      }
    },
  });

  new Gauge({
    name: "cellblock_queue_depth",
    help: "Jobs waiting for a worker (waiting + prioritized + delayed): scale workers on this",
    registers: [registry],
    async collect() {
      const jobs = queues.find((q) => q.name === QUEUE_NAME);
      const counts = jobs ? await jobs.getJobCounts("waiting", "prioritized", "delayed") : {};
      this.set(Object.values(counts).reduce((sum, n) => sum + n, 0));
    },
  });

  new Gauge({
    name: "cellblock_workers_alive",
    help: "Workers whose heartbeat is recent",
    registers: [registry],
    async collect() {
      this.set((await liveWorkers(redis, settings)).length);
    },
  });

  new Gauge({
    name: "cellblock_worker_slots",
    help: "Sandbox slots of live workers, busy or free (as of their last heartbeat)",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const workers = await liveWorkers(redis, settings);
      const busy = workers.reduce((sum, w) => sum + (w.busySlots ?? 0), 0);
      const total = workers.reduce((sum, w) => sum + w.slots, 0);
      this.set({ state: "busy" }, busy);
      this.set({ state: "free" }, Math.max(0, total - busy));
    },
  });

  return {
    contentType: registry.contentType,
    async render(): Promise<string> {
      const own = await registry.metrics();
      const shared = await renderSharedMetrics(redis, prefix, Object.values(sharedMetrics));
      return `${own}\n${shared}`;
    },
  };
}
