import { type Request, type Response, Router } from "express";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys } from "../contract/queue.ts";
import { SETUP_FAILURES_KEPT, SetupFailureRecordSchema, type StatusView } from "../contract/status.ts";
import type { AppDeps } from "./app-deps.ts";
import { readStatusSamples, statusPoints, verdictsBetween } from "./status-history.ts";
import { readStatusNow } from "./status-snapshot.ts";

// GET /status.json: what the operations page (/status) draws. Behind the same authentication as
// every data route; it shows workers and counts of the whole fleet, like /workers.

export function statusRoutes({ config, redis, jobs }: AppDeps): Router {
  const router = Router();
  const prefix = config.queue.QUEUE_PREFIX;
  const intervalMs = config.api.STATUS_SAMPLE_INTERVAL_MS;

  router.get("/status.json", async (_req: Request, res: Response) => {
    const now = await readStatusNow(redis, config.queue, jobs.queue);
    const [samples, failures] = await Promise.all([
      readStatusSamples(redis, prefix, intervalMs, now.sample.atMs),
      redis.lrange(redisKeys(prefix).setupFailures, 0, SETUP_FAILURES_KEPT - 1),
    ]);
    // The current reading closes the series, so the charts end at "now", not at the last sample.
    const series = [...samples, now.sample];
    const oldest = series[0] ?? now.sample;
    const view: StatusView = {
      nowMs: now.sample.atMs,
      sampleIntervalMs: intervalMs,
      heartbeatIntervalMs: config.queue.HEARTBEAT_INTERVAL_MS,
      workers: now.workers,
      queue: now.queue,
      recentVerdicts: verdictsBetween(oldest, now.sample),
      totals: { verdicts: now.sample.verdicts, setupFailures: now.sample.setupFailures },
      history: statusPoints(series),
      setupFailures: failures.flatMap((raw) => {
        const record = parseJsonWith(SetupFailureRecordSchema, raw);
        return record ? [record] : [];
      }),
    };
    res.set("cache-control", "no-store").json(view);
  });

  return router;
}
