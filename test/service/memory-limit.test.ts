import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

// Its own file: if the sandbox's OOM handling ever reaches the worker process, only this file
// fails instead of taking every other end-to-end test down with it.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED memory limit test: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

describe.skipIf(unavailable !== null)(
  `memory limit through the service ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "1" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("a memory hog stops at the memory limit with a memory_limit verdict and the worker lives on", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "x = 'a' * (512 << 20)\nprint(len(x))\n",
        limits: { memoryBytes: 64 << 20 },
      });
      expect(result.verdict).toBe("memory_limit");
      expect(result.runs[0].usage.peakMemoryBytes).toBeGreaterThan(32 << 20);
      const next = await runJob(service, { language: "bash", source: "echo alive" });
      expect(next.runs[0].stdout).toBe("alive\n");
    });
  },
);
