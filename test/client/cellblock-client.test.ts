import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CellblockApiError,
  CellblockClient,
  CellblockTimeoutError,
  CellblockTransportError,
} from "../../client/index.ts";
import { freePort } from "../../redis/free-port.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// The typed client against the real service (real Redis, API, worker and sandbox): every call,
// errors as typed exceptions with the service's codes, and retries that honour Retry-After on a
// real queued-jobs quota (a service without a worker, so the quota stays full until a cancel).

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED client tests against a running service: ${unavailable}`);

const KEY = "client-test-key-0123456789";
let redis: TestRedis;
let service: TestService;
let client: CellblockClient;

describe.skipIf(unavailable !== null)("the typed client against a running service", () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({
      redisUrl: redis.url,
      worker: true,
      env: { WORKER_SLOTS: "2", API_KEYS: KEY },
    });
    client = new CellblockClient({ baseUrl: `${service.api.url}/`, apiKey: KEY });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("run() returns the result: a plain run with stdin, and tests with a verdict each", async () => {
    const plain = await client.run({ language: "python", source: "print(input()[::-1])", stdin: "hello\n" });
    expect(plain).toMatchObject({ status: "completed", verdict: "ok", language: "python" });
    expect(plain.runs[0]?.stdout).toBe("olleh\n");
    const graded = await client.run({
      language: "python",
      source: "print(sum(map(int, input().split())))",
      tests: [
        { stdin: "1 2\n", expectedOutput: "3\n" },
        { stdin: "2 2\n", expectedOutput: "5\n" },
      ],
    });
    expect(graded.verdict).toBe("wrong_answer");
    expect(graded.runs.map((run) => run.verdict)).toEqual(["accepted", "wrong_answer"]);
  });

  it("run() follows a job that outlives waitMs until its result", async () => {
    const result = await client.run({ language: "bash", source: "sleep 0.3; echo late" }, { waitMs: 0 });
    expect(result.verdict).toBe("ok");
    expect(result.runs[0]?.stdout).toBe("late\n");
  });

  it("submit(), get() and wait() a job; the same Idempotency-Key gives the same job", async () => {
    const job = { language: "bash", source: "echo queued" };
    const id = await client.submit(job, { idempotencyKey: "client-test-1" });
    expect(await client.submit(job, { idempotencyKey: "client-test-1" })).toBe(id);
    expect((await client.get(id)).id).toBe(id);
    const view = await client.wait(id);
    expect(view.status).toBe("completed");
    expect(view.result?.runs[0]?.stdout).toBe("queued\n");
  });

  it("wait() gives up with a timeout error, cancel() stops the job, and a finished job cannot be cancelled", async () => {
    const id = await client.submit({ language: "bash", source: "sleep 30" });
    const timedOut = await client.wait(id, { timeoutMs: 300 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(CellblockTimeoutError);
    expect((await client.cancel(id)).status).toBe("cancelled");
    expect((await client.wait(id)).status).toBe("cancelled");
    const done = await client.submit({ language: "bash", source: "true" });
    await client.wait(done);
    const refused = await client.cancel(done).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CellblockApiError);
    expect(refused).toMatchObject({ code: "E_JOB_FINISHED", status: 409 });
  });

  it("batch() and waitBatch() report progress and return every job in request order", async () => {
    const jobs = ["a", "b", "c"].map((word) => ({ language: "bash", source: `echo ${word}` }));
    const { id, total } = await client.batch(jobs);
    expect(total).toBe(3);
    const seen: number[] = [];
    const batch = await client.waitBatch(id, { onProgress: (view) => seen.push(view.counts.completed) });
    expect(batch.status).toBe("finished");
    expect(batch.jobs.map((job) => job.result?.runs[0]?.stdout)).toEqual(["a\n", "b\n", "c\n"]);
    expect(seen.at(-1)).toBe(3);
    expect((await client.cancelBatch(id)).cancelled).toBe(0);
  });

  it("languages() lists what the workers run, with entry files and limits", async () => {
    const python = (await client.languages()).find((language) => language.id === "python");
    expect(python).toMatchObject({ sourceFile: "main.py", compiled: false });
    expect(python?.limits.cpuTimeMs).toBeGreaterThan(0);
  });

  it("bad input and unknown ids are typed errors with the service's code, status and field", async () => {
    const unknown = await client.run({ language: "cobolt", source: "x" }).catch((error: unknown) => error);
    expect(unknown).toMatchObject({ code: "E_UNKNOWN_LANGUAGE", status: 400 });
    const invalid = await client
      .run({ language: "python", source: "x", limits: { cpuTimeMs: -1 } })
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({ code: "E_VALIDATION", status: 400 });
    expect((invalid as CellblockApiError).details).toEqual([
      expect.objectContaining({ field: "limits.cpuTimeMs" }),
    ]);
    const missing = await client.get("00000000-0000-4000-8000-000000000000").catch((error: unknown) => error);
    expect(missing).toMatchObject({ code: "E_JOB_NOT_FOUND", status: 404 });
    const keyless = new CellblockClient({ baseUrl: service.api.url });
    await expect(keyless.languages()).rejects.toMatchObject({ code: "E_UNAUTHORIZED", status: 401 });
    const nowhere = new CellblockClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    await expect(nowhere.languages()).rejects.toBeInstanceOf(CellblockTransportError);
  });
});

// No worker: a submitted job stays queued, so a limit of one queued job stays reached until the
// test cancels it — first the key's queued-jobs quota (429), then the whole queue's (503).
describe.each<{ status: number; code: string; env: Record<string, string> }>([
  {
    status: 429,
    code: "E_QUOTA_EXCEEDED",
    env: { KEY_DEFAULT_MAX_QUEUED_JOBS: "1", QUOTA_RETRY_AFTER_S: "1" },
  },
  {
    status: 503,
    code: "E_QUEUE_FULL",
    env: { KEY_DEFAULT_MAX_QUEUED_JOBS: "0", MAX_QUEUED_JOBS: "1", QUEUE_FULL_RETRY_AFTER_S: "1" },
  },
])("the typed client's retries on a real $status", ({ status, code, env }) => {
  let quotaRedis: TestRedis;
  let quotaService: TestService;

  beforeAll(async () => {
    quotaRedis = await startTestRedis();
    quotaService = await startTestService({
      redisUrl: quotaRedis.url,
      worker: false,
      env: { API_KEYS: KEY, ...env },
    });
  });

  afterAll(async () => {
    await quotaService?.close();
    await quotaRedis?.stop();
  });

  it("waits the Retry-After the service sends, then succeeds; without retries the error carries it", async () => {
    const retries: { attempt: number; delayMs: number; code: string }[] = [];
    const first = await new CellblockClient({ baseUrl: quotaService.api.url, apiKey: KEY }).submit({
      language: "bash",
      source: "true",
    });
    const patient = new CellblockClient({
      baseUrl: quotaService.api.url,
      apiKey: KEY,
      // The first refusal frees the limit by cancelling the queued job; the retry must then pass.
      onRetry: ({ attempt, delayMs, error }) => {
        retries.push({ attempt, delayMs, code: error.code });
        void patient.cancel(first);
      },
    });
    const impatient = new CellblockClient({
      baseUrl: quotaService.api.url,
      apiKey: KEY,
      retry: { retries: 0 },
    });
    const refused = await impatient
      .submit({ language: "bash", source: "true" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CellblockApiError);
    expect(refused).toMatchObject({ code, status, retryAfterS: 1 });

    const started = Date.now();
    const second = await patient.submit({ language: "bash", source: "true" });
    expect(second).not.toBe(first);
    expect(retries).toEqual([{ attempt: 1, delayMs: 1000, code }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
