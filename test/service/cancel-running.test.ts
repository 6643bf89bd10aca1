import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService, waitForStatus } from "../helpers/service.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED cancel tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

describe.skipIf(unavailable !== null)(
  `cancelling running jobs ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "1" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("a running job is killed by DELETE and ends cancelled, and the worker takes the next job", async () => {
      const sleeper = { language: "bash", source: "echo started; sleep 25", limits: { wallTimeMs: 30_000 } };
      const { id } = await (await service.post("/jobs", sleeper)).json();
      await waitForStatus(service, id, ["running"]);

      const response = await service.del(`/jobs/${id}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id, status: "cancelled" });
      await waitForStatus(service, id, ["cancelled"]);

      // The only slot is free again well before the sleeper's 25 s would have ended.
      const next = await service.post("/run?waitMs=20000", { language: "bash", source: "echo next" });
      expect(next.status).toBe(200);
      expect((await next.json()).runs[0].stdout).toBe("next\n");
    });

    it("a POST /run waiting on a job that gets cancelled answers with the cancelled status", async () => {
      const pending = service.post("/run?waitMs=30000", {
        language: "bash",
        source: "sleep 25",
        limits: { wallTimeMs: 30_000 },
      });
      // POST /run does not tell its id before it answers; the job is the one the only slot runs.
      const id = await eventually(() => runningJobId(service), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: "the POST /run job running",
      });
      await service.del(`/jobs/${id}`);
      const response = await pending;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id, status: "cancelled" });
    });

    it("a job whose cancel mark was set before a worker took it ends cancelled, its program stopped", async () => {
      // DELETE sets the mark, then removes the queued job; a worker taking the job in between sees
      // only the mark. The worker reads it while its run starts: the run must still be stopped
      // (25 s of sleep would otherwise complete) and the job end cancelled, never completed.
      const { Queue } = await import("bullmq");
      const { Redis } = await import("ioredis");
      const { randomUUID } = await import("node:crypto");
      const { CANCELLED_REASON } = await import("../../contract/job-status.ts");
      const { QUEUE_PREFIX, REDIS_URL } = service.config.queue;
      const id = randomUUID();
      const db = new Redis(REDIS_URL as string);
      const queue = new Queue("jobs", {
        connection: { url: service.config.queue.REDIS_URL },
        prefix: QUEUE_PREFIX,
      });
      try {
        await db.set(`${QUEUE_PREFIX}:cancelled:${id}`, "1", "EX", 600);
        const data = {
          request: { language: "bash", source: "sleep 25", limits: { wallTimeMs: 30_000 } },
          keyId: "anonymous",
          band: "batch",
          maxRunningJobs: 0,
        };
        await queue.add("job", data, { jobId: id, priority: 10_000 });
        const ended = await eventually(
          async () => {
            const current = await queue.getJob(id);
            return current?.finishedOn ? current : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 100, what: "the marked job to end" },
        );
        expect(ended?.failedReason).toBe(CANCELLED_REASON);
        expect(ended?.returnvalue).toBeNull();
        expect(await (await service.get(`/jobs/${id}`)).json()).toEqual({ id, status: "cancelled" });
      } finally {
        await queue.close();
        db.disconnect();
      }
    });

    it("a finished job cannot be cancelled", async () => {
      const result = await (await service.post("/run", { language: "bash", source: "true" })).json();
      const response = await service.del(`/jobs/${result.id}`);
      expect(response.status).toBe(409);
      expect((await response.json()).error.code).toBe("E_JOB_FINISHED");
    });
  },
);

async function runningJobId(service: TestService): Promise<string | undefined> {
  const { Queue } = await import("bullmq");
  const queue = new Queue("jobs", {
    connection: { url: service.config.queue.REDIS_URL },
    prefix: service.config.queue.QUEUE_PREFIX,
  });
  try {
    const [job] = await queue.getActive();
    return job?.id;
  } finally {
    await queue.close();
  }
}
