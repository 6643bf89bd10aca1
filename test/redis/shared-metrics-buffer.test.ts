import { describe, expect, it } from "vitest";
import { redisKeys } from "../../contract/queue.ts";
import { sharedMetrics } from "../../contract/shared-metrics.ts";
import { SharedMetricsBuffer } from "../../redis/shared-metrics-buffer.ts";
import { eventually } from "../helpers/eventually.ts";
import { commandCalls, redisClientForFile } from "../helpers/redis.ts";

// A worker's metrics are summed in memory and written as one increment per touched field: the
// totals stay exact, and Redis sees a handful of commands however many jobs ran.

const redis = redisClientForFile();

const hincrbyfloatCalls = () => commandCalls(redis.client, "hincrbyfloat");

describe("the shared metrics buffer", () => {
  it("writes a thousand jobs' metrics as one increment per field, with exact totals", async () => {
    const prefix = "buffer-totals";
    const buffer = new SharedMetricsBuffer(redis.client, prefix, (error) => {
      throw error;
    });
    const before = await hincrbyfloatCalls();
    for (let i = 0; i < 1000; i++) {
      buffer.add(sharedMetrics.verdicts, { language: "c", verdict: i % 4 === 0 ? "runtime_error" : "ok" });
      buffer.add(sharedMetrics.runTime, { language: "c" }, 0.02);
    }
    await buffer.flush();
    const all = await redis.client.hgetall(redisKeys(prefix).metrics);
    expect(Number(all['cellblock_job_verdicts_total|{"language":"c","verdict":"ok"}|value'])).toBe(750);
    expect(Number(all['cellblock_job_verdicts_total|{"language":"c","verdict":"runtime_error"}|value'])).toBe(
      250,
    );
    expect(Number(all['cellblock_job_run_seconds|{"language":"c"}|count'])).toBe(1000);
    expect(Number(all['cellblock_job_run_seconds|{"language":"c"}|le=0.025'])).toBe(1000);
    expect(all['cellblock_job_run_seconds|{"language":"c"}|le=0.01']).toBeUndefined();
    expect(Number(all['cellblock_job_run_seconds|{"language":"c"}|sum'])).toBeCloseTo(20, 6);
    // Two verdict fields; the histogram's 13 buckets from 0.025 up, +Inf, sum and count.
    expect((await hincrbyfloatCalls()) - before).toBe(Object.keys(all).length);
    expect(Object.keys(all)).toHaveLength(2 + 13 + 3);
  });

  it("writes pending additions by itself within its flush interval", async () => {
    const prefix = "buffer-timer";
    const buffer = new SharedMetricsBuffer(redis.client, prefix, () => {}, 50);
    buffer.add(sharedMetrics.setupFailures, {});
    const field = "cellblock_sandbox_setup_failures_total|{}|value";
    const value = await eventually(() => redis.client.hget(redisKeys(prefix).metrics, field), {
      timeoutMs: 5000,
      what: "the buffered counter written",
    });
    expect(Number(value)).toBe(1);
  });
});
