import type { Redis } from "ioredis";
import type { JobResult } from "../contract/job-result.ts";
import type { PriorityBand } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import { addToSharedMetric } from "../redis/shared-metrics-store.ts";

// The worker's share of the fleet-wide metrics (contract/shared-metrics.ts), written to Redis so
// the API's GET /metrics shows them whichever worker ran the job. Failures to record are only
// logged by the caller: a metric must never fail a job.

export async function recordQueueWait(redis: Redis, prefix: string, band: PriorityBand, waitMs: number) {
  await addToSharedMetric(redis, prefix, sharedMetrics.queueWait, { band }, Math.max(0, waitMs) / 1000);
}

export async function recordJobResult(redis: Redis, prefix: string, result: JobResult, runMs: number) {
  await Promise.all([
    addToSharedMetric(redis, prefix, sharedMetrics.verdicts, {
      language: result.language,
      verdict: result.verdict,
    }),
    addToSharedMetric(redis, prefix, sharedMetrics.runTime, { language: result.language }, runMs / 1000),
  ]);
}

export async function recordSetupFailure(redis: Redis, prefix: string) {
  await addToSharedMetric(redis, prefix, sharedMetrics.setupFailures, {});
}
