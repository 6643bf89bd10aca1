import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../api/api-key-store.ts";
import type { KeyLimits } from "../../contract/api-key.ts";
import { QUEUE_NAME } from "../../contract/queue.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// Fair share: with key A's large batch queued on one slot, key B's jobs go next, measured in job
// slots (A's jobs that finished while B's job waited), not in seconds. Metrics: after a known
// workload, /metrics and /workers show exactly it.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED fairness and metrics tests: ${unavailable}`);

let redis: TestRedis;
let client: Redis;
let service: TestService;
let queue: Queue;
const unlimited: KeyLimits = { requestsPerMinute: 0, maxRunningJobs: 0, maxQueuedJobs: 0, ceilings: {} };
const as = (key: string) => ({ authorization: `Bearer ${key}` });

// This wait had no deadline: a job that never finished hung the file until vitest's timeout.
async function finished(id: string) {
  const job = await eventually(() => queue.getJob(id), {
    until: (candidate) => Boolean(candidate?.finishedOn),
    timeoutMs: 60_000,
    what: `job ${id} finished`,
  });
  if (!job) throw new Error(`job ${id} vanished`);
  return job;
}

describe.skipIf(unavailable !== null)(`fairness and metrics ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "1" } });
    client = new Redis(redis.url);
    queue = new Queue(QUEUE_NAME, {
      connection: { url: redis.url },
      prefix: service.config.queue.QUEUE_PREFIX,
    });
  });

  afterAll(async () => {
    await queue?.close();
    client?.disconnect();
    await service?.close();
    await redis?.stop();
  });

  it("metrics count a known workload: verdicts by language, waits, run times, workers and slots", async () => {
    const { key } = await createKey(client, service.config.queue.QUEUE_PREFIX, "metrics", unlimited);
    for (const source of ["echo 1", "echo 2", "echo 3", "exit 3"]) {
      expect((await service.post("/run", { language: "bash", source }, as(key))).status).toBe(200);
    }
    // A worker writes its metrics once a second (redis/shared-metrics-buffer.ts): wait for the
    // last job's run time, then every figure must be exact.
    const text = await eventually(async () => (await fetch(`${service.api.url}/metrics`)).text(), {
      until: (body) => body.includes('cellblock_job_run_seconds_count{language="bash"} 4'),
      timeoutMs: 10_000,
      what: "the worker's metrics flushed",
    });
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('cellblock_job_verdicts_total{language="bash",verdict="ok"}')).toBe(3);
    expect(value('cellblock_job_verdicts_total{language="bash",verdict="runtime_error"}')).toBe(1);
    expect(value('cellblock_job_queue_wait_seconds_count{band="interactive"}')).toBe(4);
    expect(value('cellblock_job_run_seconds_count{language="bash"}')).toBe(4);
    expect(value('cellblock_job_run_seconds_bucket{language="bash",le="+Inf"}')).toBe(4);
    expect(value('cellblock_queue_jobs{queue="jobs",state="completed",band="all"}')).toBe(4);
    expect(value("cellblock_queue_depth")).toBe(0);
    expect(value("cellblock_workers_alive")).toBe(1);
    expect(value('cellblock_worker_slots{state="free"}')).toBe(1);
    expect(text).not.toContain("echo 1");

    const workers = await (await fetch(`${service.api.url}/workers`, { headers: as(key) })).json();
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ pid: process.pid, slots: 1 });
    // The host layout always; built images too when this machine has verified ones.
    expect(workers[0].images).toContain("host");
    expect(workers[0].languages).toContain("bash");
  });

  it("key B's jobs run within a few job slots while key A's 150-job batch is queued", async () => {
    const prefix = service.config.queue.QUEUE_PREFIX;
    const a = (await createKey(client, prefix, "A", unlimited)).key;
    const b = (await createKey(client, prefix, "B", unlimited)).key;
    const jobs = Array.from({ length: 150 }, (_, i) => ({ language: "bash", source: `echo a-${i}` }));
    const batch = await (await service.post("/batches", { jobs }, as(a))).json();
    const batchIds = new Set(await client.lrange(`${prefix}:batch:${batch.id}:jobs`, 0, -1));

    // A batch-priority job of B, then an interactive one.
    const bJob = (await (await service.post("/jobs", { language: "bash", source: "echo b" }, as(b))).json())
      .id;
    const bRun = await (await service.post("/run", { language: "bash", source: "echo b-run" }, as(b))).json();
    for (const id of [bJob, bRun.id]) {
      const own = await finished(id);
      const aDuring = (await queue.getCompleted(0, -1)).filter(
        (job) =>
          batchIds.has(job.id as string) &&
          (job.finishedOn ?? 0) > own.timestamp &&
          (job.finishedOn ?? 0) <= (own.finishedOn ?? 0),
      );
      // One slot: at most the A job running at submission, and the one B's tied with, go first.
      expect(aDuring.length).toBeLessThanOrEqual(2);
    }
    const progress = await (
      await fetch(`${service.api.url}/batches/${batch.id}?limit=0`, { headers: as(a) })
    ).json();
    expect(progress.counts.queued).toBeGreaterThan(100);
    expect((await service.del(`/batches/${batch.id}`, as(a))).status).toBe(200);
  });
});
