import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService, waitForStatus } from "../helpers/service.ts";

// Redis runs with the append-only file on: jobs accepted before redis-server is killed are still
// there after it restarts, and a worker then completes them.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED durability test's completion half: ${unavailable}`);

let redis: TestRedis;
let api: TestService;
let withWorker: TestService | null = null;

describe("durability across a Redis restart", () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    api = await startTestService({ redisUrl: redis.url, worker: false });
  });

  afterAll(async () => {
    await withWorker?.close();
    await api?.close();
    await redis?.stop();
  });

  it("queued jobs survive redis-server being SIGKILLed and restarted, then complete", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await api.post("/jobs", { language: "bash", source: `echo job-${i}` });
      expect(response.status).toBe(202);
      ids.push((await response.json()).id);
    }

    await redis.restart("SIGKILL");

    // Each wait has its own deadline below the test's, so a failure names the step that hung.
    for (const id of ids) await waitForStatus(api, id, ["queued"], 30_000);
    if (unavailable) return;

    // A worker on the same queue (same prefix) picks them up.
    withWorker = await startTestService({
      redisUrl: redis.url,
      worker: true,
      env: { QUEUE_PREFIX: api.config.queue.QUEUE_PREFIX, WORKER_SLOTS: "2" },
    });
    for (const [i, id] of ids.entries()) {
      const view = await waitForStatus(api, id, ["completed", "failed"], 30_000);
      expect(view.result.runs[0].stdout).toBe(`job-${i}\n`);
    }
  }, 150_000);
});
