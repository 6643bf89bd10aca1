import os from "node:os";
import type { Redis } from "ioredis";
import type { JobResult } from "../contract/job-result.ts";
import { type PriorityBand, redisKeys } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import { SETUP_FAILURES_KEPT, type SetupFailureRecord } from "../contract/status.ts";
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
