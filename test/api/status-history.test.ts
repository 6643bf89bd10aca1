import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStatusSamples, StatusSampler, statusPoints, verdictsBetween } from "../../api/status-history.ts";
import { QUEUE_NAME, redisKeys } from "../../contract/queue.ts";
import { sharedMetrics } from "../../contract/shared-metrics.ts";
import type { StatusSample } from "../../contract/status.ts";
import { addToSharedMetric } from "../../redis/shared-metrics-store.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";

// The operations page's history: samples written once per interval for the whole fleet (SET NX),
// read back in order, and turned into chart points whose rates cover the trailing minute.

const sample = (atMs: number, fields: Partial<StatusSample> = {}): StatusSample => ({
  atMs,
  queueDepth: 0,
  activeJobs: 0,
  workers: 1,
  slots: 2,
  busySlots: 0,
  verdicts: {},
  queueWaitSumS: 0,
  queueWaitCount: 0,
  setupFailures: 0,
  ...fields,
});

describe("status points", () => {
  it("give the job rate and mean wait over the trailing minute, not per sample", () => {
    const samples = [
      sample(0),
      sample(30_000, { verdicts: { ok: 3 }, queueWaitSumS: 0.3, queueWaitCount: 3 }),
      sample(60_000, { verdicts: { ok: 6 }, queueWaitSumS: 0.9, queueWaitCount: 6, queueDepth: 4 }),
      sample(90_000, { verdicts: { ok: 6, wrong_answer: 3 }, queueWaitSumS: 0.9, queueWaitCount: 6 }),
    ];
    const points = statusPoints(samples);
    expect(points.map((p) => p.atMs)).toEqual([30_000, 60_000, 90_000]);
    expect(points.map((p) => p.jobsPerMinute)).toEqual([6, 6, 6]);
    expect(points[1]?.queueDepth).toBe(4);
    expect(points[0]?.meanQueueWaitMs).toBeCloseTo(100);
    expect(points[1]?.meanQueueWaitMs).toBeCloseTo(150);
    // From 30 s to 90 s three jobs started, waiting 0.6 s in all.
    expect(points[2]?.meanQueueWaitMs).toBeCloseTo(200);
  });

  it("have no mean wait where no job started, and never a negative rate after a metrics reset", () => {
    const points = statusPoints([sample(0, { verdicts: { ok: 10 } }), sample(5_000)]);
    expect(points).toEqual([
      { atMs: 5_000, queueDepth: 0, busySlots: 0, slots: 2, jobsPerMinute: 0, meanQueueWaitMs: null },
    ]);
  });

  it("count the verdicts between the oldest sample and now", () => {
    expect(
      verdictsBetween(sample(0, { verdicts: { ok: 2 } }), sample(1, { verdicts: { ok: 5, time_limit: 1 } })),
    ).toEqual({ ok: 3, time_limit: 1 });
  });
});

describe("the status sampler", () => {
  let redis: TestRedis;
  let client: Redis;
  let queue: Queue;
  const prefix = "status-history-test";
  const settings = { QUEUE_PREFIX: prefix, HEARTBEAT_INTERVAL_MS: 1000 };

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: client, prefix });
  });

  afterAll(async () => {
    await queue?.close();
    await client?.quit();
    await redis?.stop();
  });

  it("writes one sample per interval however many API processes sample, and reads them back in order", async () => {
    const log = pino({ level: "silent" });
    const intervalMs = 3_600_000; // every sample below falls into one interval
    const samplers = [1, 2, 3].map(() => new StatusSampler(client, settings, intervalMs, queue, log));
    await addToSharedMetric(client, prefix, sharedMetrics.verdicts, { language: "c", verdict: "ok" });
    await samplers[0]?.sample();
    await addToSharedMetric(client, prefix, sharedMetrics.verdicts, { language: "c", verdict: "ok" });
    await Promise.all(samplers.map((s) => s.sample()));

    const samples = await readStatusSamples(client, prefix, intervalMs, Date.now());
    expect(samples).toHaveLength(1);
    expect(samples[0]?.verdicts).toEqual({ ok: 1 }); // the first writer's, not a later one's
    const keys = await client.keys(`${prefix}:status-sample:*`);
    expect(keys).toHaveLength(1);
    expect(await client.pttl(keys[0] as string)).toBeGreaterThan(14 * 60_000);
  });

  it("skips a sample that does not parse instead of failing the page", async () => {
    const intervalMs = 1000;
    const now = Date.now();
    const bucket = now - (now % intervalMs);
    const keys = redisKeys("unparsable");
    await client.set(keys.statusSample(bucket - 2 * intervalMs), "{not json");
    await client.set(keys.statusSample(bucket - intervalMs), JSON.stringify(sample(bucket - intervalMs)));
    await client.set(keys.statusSample(bucket), JSON.stringify({ atMs: "yesterday" }));
    const samples = await readStatusSamples(client, "unparsable", intervalMs, now);
    expect(samples.map((s) => s.atMs)).toEqual([bucket - intervalMs]);
  });
});
