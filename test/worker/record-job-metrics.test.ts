import os from "node:os";
import { describe, expect, it } from "vitest";
import { parseJsonWith } from "../../contract/parse-json.ts";
import { redisKeys } from "../../contract/queue.ts";
import { SETUP_FAILURES_KEPT, SetupFailureRecordSchema } from "../../contract/status.ts";
import { recordSetupFailure } from "../../worker/record-job-metrics.ts";
import { redisClientForFile } from "../helpers/redis.ts";

// A sandbox setup failure is counted for /metrics and kept, with where and why, in a short list
// the operations page shows: newest first, never more than SETUP_FAILURES_KEPT.

const redis = redisClientForFile();
const prefix = "record-metrics-test";

describe("recording a sandbox setup failure", () => {
  it("counts it and keeps the latest records, newest first, with this host's name", async () => {
    const total = SETUP_FAILURES_KEPT + 5;
    for (let i = 0; i < total; i++) {
      await recordSetupFailure(redis.client, prefix, {
        jobId: `job-${i}`,
        language: "c",
        error: "mount_proc: EPERM",
        retried: i % 2 === 0,
      });
    }
    const keys = redisKeys(prefix);
    const raw = await redis.client.lrange(keys.setupFailures, 0, -1);
    const records = raw.map((entry) => parseJsonWith(SetupFailureRecordSchema, entry));
    expect(records).toHaveLength(SETUP_FAILURES_KEPT);
    expect(records[0]).toMatchObject({
      jobId: `job-${total - 1}`,
      host: os.hostname(),
      error: "mount_proc: EPERM",
    });
    expect(records.at(-1)?.jobId).toBe(`job-${total - SETUP_FAILURES_KEPT}`);
    const counter = await redis.client.hget(keys.metrics, "cellblock_sandbox_setup_failures_total|{}|value");
    expect(Number(counter)).toBe(total);
  });
});
