// The API's reading of job states (api/job-queue.ts, api/batch-queue.ts) against a real Redis and
// real BullMQ queues, without workers or the sandbox. Single job views and batch counts go through
// the one mapping of contract/job-status.ts, so they cannot disagree again.
import { randomUUID } from "node:crypto";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "../../api/api-keys.ts";
import { BatchQueue } from "../../api/batch-queue.ts";
import { CompletionWaiter } from "../../api/completion-waiter.ts";
import { JobQueue } from "../../api/job-queue.ts";
import { type Config, loadConfig } from "../../config/load-config.ts";
import type { JobRequest } from "../../contract/job-request.ts";
import { CANCELLED_REASON, GONE_JOB_ERROR } from "../../contract/job-status.ts";
import { QUEUE_NAME, redisKeys } from "../../contract/queue.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";

let redis: TestRedis;
let client: Redis;
let config: Config;
let waiter: CompletionWaiter;
let jobs: JobQueue;
let batches: BatchQueue;

const log = pino({ level: "silent" });
const caller: Caller = {
  keyId: "k",
  limits: { requestsPerMinute: 0, maxRunningJobs: 0, maxQueuedJobs: 0, ceilings: {} },
};
const request: JobRequest = {
  language: "bash",
  source: "true",
  stdin: "",
  args: [],
  compare: "trim",
  limits: {},
};

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  config = loadConfig({ REDIS_URL: redis.url, QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}` });
  waiter = new CompletionWaiter(client.duplicate(), config.queue.QUEUE_PREFIX, log);
  await waiter.ready();
  jobs = new JobQueue(client, config, waiter, log);
  batches = new BatchQueue(client, config, jobs);
});

afterAll(async () => {
  await jobs?.close();
  await waiter?.close();
  client?.disconnect();
  await redis?.stop();
});

/** Fails every job it takes the way the worker fails a job aborted by DELETE. */
async function failAsCancelled(count: number): Promise<void> {
  let failed = 0;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    QUEUE_NAME,
    async () => {
      throw new UnrecoverableError(CANCELLED_REASON);
    },
    { connection, prefix: config.queue.QUEUE_PREFIX },
  );
  worker.on("failed", () => {
    failed += 1;
  });
  try {
    await eventually(() => failed >= count, { timeoutMs: 10_000, what: `${count} jobs failed` });
  } finally {
    await worker.close();
    connection.disconnect();
  }
}

describe("job statuses as the API reads them", () => {
  it("a queued job is queued; cancelled while queued it is removed and answers cancelled", async () => {
    const id = await jobs.submit(request, { band: "batch", caller });
    expect(await jobs.view(id, "k")).toMatchObject({ id, status: "queued" });
    expect(await jobs.cancel(id, "k")).toEqual({ id, status: "cancelled" });
    expect(await jobs.queue.getJob(id)).toBeUndefined();
    expect(await jobs.view(id, "k")).toEqual({ id, status: "cancelled" });
  });

  it("another key's job is unknown to the caller", async () => {
    const id = await jobs.submit(request, { band: "batch", caller });
    expect(await jobs.view(id, "someone-else")).toBeNull();
    await jobs.cancel(id);
  });

  it("regression: a job failed by a cancel reads cancelled in its view and its batch after the mark expired", async () => {
    const batchId = await batches.create([request, request], caller, undefined);
    const { ids } = await batches.statuses(batchId);
    await failAsCancelled(2);
    const marks = redisKeys(config.queue.QUEUE_PREFIX);
    await client.del(...ids.map((id) => marks.cancelled(id)));
    for (const id of ids) expect((await jobs.view(id, "k"))?.status).toBe("cancelled");
    const view = await batches.view(batchId, "k", 0, 10);
    expect(view?.counts).toEqual({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 2 });
    expect(view?.status).toBe("finished");
  });

  it("a gone job is 404 on its own and, in its batch, failed with E_JOB_GONE so the batch can finish", async () => {
    const batchId = await batches.create([request, request], caller, undefined);
    const { ids } = await batches.statuses(batchId);
    const [gone = "", other = ""] = ids;
    // An operator removed it (bull-board), or its record expired: no cancel mark either way.
    await jobs.queue.remove(gone);
    expect(await jobs.view(gone, "k")).toBeNull();
    const view = await batches.view(batchId, "k", 0, 10);
    expect(view?.counts).toMatchObject({ queued: 1, failed: 1 });
    expect(view?.jobs[0]).toEqual({ index: 0, id: gone, status: "failed", error: GONE_JOB_ERROR });
    await jobs.cancelUnfinished([other]);
    expect((await batches.view(batchId, "k", 0, 0))?.status).toBe("finished");
  });
});
