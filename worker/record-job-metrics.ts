import os from "node:os";
import type { Redis } from "ioredis";
import type { JobResult } from "../contract/job-result.ts";
import { type PriorityBand, redisKeys } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import { SETUP_FAILURES_KEPT, type SetupFailureRecord } from "../contract/status.ts";
import type { SharedMetricsBuffer } from "../redis/shared-metrics-buffer.ts";
import { addToSharedMetric } from "../redis/shared-metrics-store.ts";

// The worker's share of the fleet-wide metrics (contract/shared-metrics.ts), written to Redis so
// the API's GET /metrics shows them whichever worker ran the job. Failures to record are only
// logged: a metric must never fail a job. Every job's own metrics go through the worker's
// SharedMetricsBuffer (summed, written once a second); a setup failure is rare and is written at once.

export function recordQueueWait(metrics: SharedMetricsBuffer, band: PriorityBand, waitMs: number): void {
  metrics.add(sharedMetrics.queueWait, { band }, Math.max(0, waitMs) / 1000);
}

export function recordJobResult(metrics: SharedMetricsBuffer, result: JobResult, runMs: number): void {
  metrics.add(sharedMetrics.verdicts, { language: result.language, verdict: result.verdict });
  metrics.add(sharedMetrics.runTime, { language: result.language }, runMs / 1000);
}

/** Counts a setup failure and keeps its detail in the short list the operations page shows. */
export async function recordSetupFailure(
  redis: Redis,
  prefix: string,
  failure: Omit<SetupFailureRecord, "atMs" | "host">,
) {
  const record: SetupFailureRecord = { atMs: Date.now(), host: os.hostname(), ...failure };
  const list = redisKeys(prefix).setupFailures;
  await Promise.all([
    addToSharedMetric(redis, prefix, sharedMetrics.setupFailures, {}),
    redis
      .multi()
      .lpush(list, JSON.stringify(record))
      .ltrim(list, 0, SETUP_FAILURES_KEPT - 1)
      .exec(),
  ]);
}
