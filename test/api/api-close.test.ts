import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApi } from "../../api/start-api.ts";
import { loadConfig } from "../../config/load-config.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";

// An API stopped right after its start (a test's short-lived service, a deploy rolled back at
// once) must close cleanly: closed while BullMQ's completion worker still started, its start's own
// commands were cut with the connection and surfaced as unhandled "Connection is closed"
// rejections (CI saw two in a service test; without the fix this file sees them in most runs).

let redis: TestRedis;
let workRoot: string;
const unhandled: unknown[] = [];
const noteUnhandled = (reason: unknown) => unhandled.push(reason);

describe("an API closed right after it starts", () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    workRoot = await mkdtemp(path.join(os.tmpdir(), "cellblock-test-work-"));
    process.on("unhandledRejection", noteUnhandled);
  });
  afterAll(async () => {
    process.off("unhandledRejection", noteUnhandled);
    await redis?.stop();
    await rm(workRoot, { recursive: true, force: true });
  });

  it("leaves no unhandled rejection behind, however soon it is closed", async () => {
    const logger = pino({ level: "silent" });
    for (let i = 0; i < 30; i++) {
      const config = loadConfig({
        ...process.env,
        REDIS_URL: redis.url,
        HOST: "127.0.0.1",
        PORT: "0",
        QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
        WORK_ROOT: workRoot,
        LOG_LEVEL: "silent",
        API_KEYS: "",
      });
      const api = await startApi(config, logger);
      await new Promise((resolve) => setTimeout(resolve, i % 5)); // 0-4 ms: the start's tail
      await api.close();
    }
    // Rejections are reported after the microtask queue drains: give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(unhandled.map(String)).toEqual([]);
  }, 120_000);
});
