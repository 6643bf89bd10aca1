import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";

// Batches through real worker processes: every job runs exactly once and is counted once, and a
// worker SIGKILLed mid-batch costs nothing but time.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED batch tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;
const workers: WorkerProcess[] = [];

const echoJobs = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => ({ language: "bash", source: `echo ${prefix}-${i}` }));

async function waitForBatch(id: string, timeoutMs: number) {
  return eventually(async () => (await service.get(`/batches/${id}?limit=0`)).json(), {
    until: (view) => view.status === "finished",
    timeoutMs,
    intervalMs: 250,
    what: `batch ${id} finished`,
  });
}

async function allJobs(id: string, total: number) {
  const jobs: { index: number; id: string; status: string; result?: { runs: { stdout: string }[] } }[] = [];
  for (let offset = 0; offset < total; offset += 200) {
    const page = await (await service.get(`/batches/${id}?offset=${offset}&limit=200`)).json();
    jobs.push(...page.jobs);
  }
  return jobs;
}

beforeAll(async () => {
  redis = await startTestRedis();
  // Short lock and stall check so a killed worker's job is recovered in seconds.
  service = await startTestService({
    redisUrl: redis.url,
    worker: false,
    env: { MAX_BATCH_JOBS: "600", LOCK_DURATION_MS: "2000", STALLED_INTERVAL_MS: "1000", WORKER_SLOTS: "1" },
  });
});

afterAll(async () => {
  for (const worker of workers) await worker.kill("SIGKILL");
  await service?.close();
  await redis?.stop();
});

describe("batch validation (no worker needed)", () => {
  it("a bad job inside a batch is named by its index, and nothing is enqueued", async () => {
    const jobs = echoJobs(20, "v");
    jobs[17] = { language: "klingon", source: "x" };
    (jobs[3] as Record<string, unknown>).limits = { cpuTimeMs: -5 };
    const response = await service.post("/batches", { jobs });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("E_VALIDATION");
    const fields = body.error.details.map((p: { field: string }) => p.field);
    expect(fields).toEqual(["jobs[3].limits.cpuTimeMs", "jobs[17].language"]);
  });

  it("a batch above MAX_BATCH_JOBS is refused", async () => {
    const response = await service.post("/batches", { jobs: echoJobs(601, "big") });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("E_BATCH_TOO_LARGE");
  });

  it("DELETE /batches/:id cancels every queued job and the batch finishes", async () => {
    const { id } = await (await service.post("/batches", { jobs: echoJobs(30, "c") })).json();
    const queued = await (await service.get(`/batches/${id}?limit=5`)).json();
    expect(queued).toMatchObject({
      status: "running",
      total: 30,
      counts: { queued: 30 },
      offset: 0,
      limit: 5,
    });
    expect(queued.jobs.map((j: { index: number }) => j.index)).toEqual([0, 1, 2, 3, 4]);
    const cancel = await service.del(`/batches/${id}`);
    expect(await cancel.json()).toEqual({ id, cancelled: 30 });
    const view = await (await service.get(`/batches/${id}?offset=28&limit=10`)).json();
    expect(view).toMatchObject({ status: "finished", counts: { cancelled: 30, queued: 0 } });
    expect(view.jobs.map((j: { status: string }) => j.status)).toEqual(["cancelled", "cancelled"]);
  });

  it("an unknown batch is 404", async () => {
    const response = await service.get("/batches/00000000-0000-0000-0000-000000000000");
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("E_BATCH_NOT_FOUND");
  });
});

describe.skipIf(unavailable !== null)(
  `batches across worker processes ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    it("a 500-job batch across 3 worker processes runs every job exactly once, with correct counts", async () => {
      for (const offset of [0, 1, 2]) {
        workers.push(await startWorkerProcess({ ...service.env, SANDBOX_SLOT_OFFSET: String(offset) }));
      }
      const created = await service.post("/batches", { jobs: echoJobs(500, "b") });
      expect(created.status).toBe(202);
      const { id, total } = await created.json();
      expect(total).toBe(500);

      const view = await waitForBatch(id, 240_000);
      expect(view.counts).toEqual({ queued: 0, running: 0, completed: 500, failed: 0, cancelled: 0 });
      const jobs = await allJobs(id, 500);
      expect(jobs.map((j) => j.index)).toEqual([...Array(500).keys()]);
      expect(jobs.map((job) => job.result?.runs[0]?.stdout)).toEqual(jobs.map((_, i) => `b-${i}\n`));

      const ran = workers.flatMap((w) => w.finishedJobIds());
      const batchIds = new Set(jobs.map((j) => j.id));
      const ranHere = ran.filter((jobId) => batchIds.has(jobId));
      expect(ranHere.length).toBe(500);
      expect(new Set(ranHere).size).toBe(500);
      // Every worker took part.
      for (const worker of workers) expect(worker.finishedJobIds().length).toBeGreaterThan(0);
    }, 300_000);

    it("a worker SIGKILLed mid-batch does not stop the batch from completing", async () => {
      const { id } = await (
        await service.post("/batches", {
          jobs: Array.from({ length: 90 }, (_, i) => ({
            language: "bash",
            source: `sleep 0.1; echo k-${i}`,
          })),
        })
      ).json();
      const victim = workers[0] as WorkerProcess;
      const before = victim.finishedJobIds().length;
      await eventually(() => victim.finishedJobIds().length >= before + 3, {
        timeoutMs: 60_000,
        what: "the victim finishing 3 jobs of the batch",
      });
      await victim.kill("SIGKILL");

      const view = await waitForBatch(id, 240_000);
      expect(view.counts).toEqual({ queued: 0, running: 0, completed: 90, failed: 0, cancelled: 0 });
      const jobs = await allJobs(id, 90);
      expect(jobs.map((job) => job.result?.runs[0]?.stdout)).toEqual(jobs.map((_, i) => `k-${i}\n`));
    }, 300_000);
  },
);
