// The dispatch gate (worker/dispatch-gate.ts) against a real Redis, without the sandbox: which jobs
// a worker may start, and how long a started job holds its key's running place.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import type { JobRequest } from "../../contract/job-request.ts";
import { type QueuedJob, redisKeys } from "../../contract/queue.ts";
import { resolveCompileLimits } from "../../contract/resolve-limits.ts";
import { DispatchGate, judgeLeaseMs, runningLeaseMs, STEP_OVERHEAD_MS } from "../../worker/dispatch-gate.ts";
import type { RunnableLanguage } from "../../worker/resolve-languages.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";

const config = loadConfig({});
const LOCK_MS = 30_000;

const language = (id: string, overrides: Partial<RunnableLanguage> = {}): RunnableLanguage => ({
  id,
  name: id,
  versionCommand: ["/bin/true"],
  sourceFile: "main",
  compile: null,
  run: ["/bin/true"],
  env: {},
  limits: {},
  compileLimits: {},
  rootfs: { kind: "host" },
  ...overrides,
});
// Kotlin's recipe: compiles for up to 120 s, runs for up to 20 s.
const kotlin = language("kotlin", {
  compile: ["/usr/bin/kotlinc", "main.kt"],
  limits: { wallTimeMs: 20_000 },
  compileLimits: { wallTimeMs: 120_000 },
});
const bash = language("bash");

const request = (lang: string, overrides: Partial<JobRequest> = {}): JobRequest => ({
  language: lang,
  source: "x",
  stdin: "",
  args: [],
  compare: "trim",
  limits: {},
  ...overrides,
});
const job = (
  keyId: string,
  lang: string,
  maxRunningJobs: number,
  overrides: Partial<JobRequest> = {},
): QueuedJob => ({
  request: request(lang, overrides),
  keyId,
  band: "batch",
  maxRunningJobs,
});

let redis: TestRedis;
let client: Redis;
let keys: ReturnType<typeof redisKeys>;
let gate: DispatchGate;

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
  keys = redisKeys(`t${randomUUID().slice(0, 8)}`);
  const languages = new Map([
    ["kotlin", kotlin],
    ["bash", bash],
  ]);
  gate = new DispatchGate(client, keys, { limits: config.limits, lockDurationMs: LOCK_MS }, languages);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe("the dispatch gate", () => {
  it("hands back a job whose language this worker lacks, naming the language", async () => {
    const admission = await gate.admit(randomUUID(), job("k-lang", "java", 0));
    expect(admission).toEqual({ admitted: false, reason: "language java is not available on this worker" });
  });

  it("admits a job of a key without a running-jobs limit and claims nothing", async () => {
    const admission = await gate.admit(randomUUID(), job("k-free", "bash", 0));
    expect(admission.admitted).toBe(true);
    expect(await client.exists(keys.runningByKey("k-free"))).toBe(0);
  });

  it("a key at its running-jobs limit gets its next job handed back until one finishes", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const a = job("k-limit", "bash", 1);
    expect((await gate.admit(first, a)).admitted).toBe(true);
    expect(await gate.admit(second, a)).toEqual({
      admitted: false,
      reason: "API key k-limit runs 1 jobs already",
    });
    // The same job admitted again (a retry, a stalled job re-run) keeps its place.
    expect((await gate.admit(first, a)).admitted).toBe(true);
    await gate.finished(first, a);
    expect((await gate.admit(second, a)).admitted).toBe(true);
  });

  it("a lease that ran out (its worker died) frees the key's place", async () => {
    const [dead, next] = [randomUUID(), randomUUID()];
    const a = job("k-dead", "bash", 1);
    expect((await gate.admit(dead, a)).admitted).toBe(true);
    await client.zadd(keys.runningByKey("k-dead"), Date.now() - 1, dead);
    expect((await gate.admit(next, a)).admitted).toBe(true);
  });

  it("regression: a kotlin job holds its key's place for its whole 120 s compile and its runs, not 90 s", async () => {
    const id = randomUUID();
    const tests = [{ stdin: "", expectedOutput: "" }];
    const before = Date.now();
    expect((await gate.admit(id, job("k-kotlin", "kotlin", 1, { tests }))).admitted).toBe(true);
    const expiresAt = Number(await client.zscore(keys.runningByKey("k-kotlin"), id));
    const compileMs = resolveCompileLimits(kotlin, config.limits).wallTimeMs;
    // Compile and one test at their wall-time limits, plus the lock margin a dead worker's job needs.
    expect(expiresAt - before).toBeGreaterThanOrEqual(compileMs + 20_000 + LOCK_MS);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(
      runningLeaseMs(job("k", "kotlin", 1, { tests }).request, kotlin, config.limits, LOCK_MS),
    );
  });

  it("the lease grows with the tests and follows the request's own wall-time limit", () => {
    const tests = (n: number) => Array.from({ length: n }, () => ({ stdin: "", expectedOutput: "" }));
    const lease = (overrides: Partial<JobRequest>) =>
      runningLeaseMs(request("bash", overrides), bash, config.limits, LOCK_MS);
    expect(lease({ tests: tests(10) }) - lease({ tests: tests(1) })).toBeGreaterThanOrEqual(
      9 * config.limits.run.wallTimeMs,
    );
    expect(lease({ limits: { wallTimeMs: 30_000 } })).toBeGreaterThanOrEqual(30_000 + LOCK_MS);
  });

  it("a started job leaves its key's queued set (fair share and quota)", async () => {
    const id = randomUUID();
    const a = job("k-queued", "bash", 0);
    await client.sadd(keys.queuedByKey("k-queued", "batch"), id);
    const pipeline = client.pipeline();
    gate.started(pipeline, id, a);
    await pipeline.exec();
    expect(await client.sismember(keys.queuedByKey("k-queued", "batch"), id)).toBe(0);
  });
});

describe("judge programs in the gate", () => {
  const tests = [1, 2, 3].map(() => ({ stdin: "", expectedOutput: "" }));
  const checker = { language: "kotlin", source: "x", limits: { wallTimeMs: 1000 } };

  it("a job whose checker's language is missing here is handed back, naming the checker", async () => {
    const admission = await gate.admit(
      randomUUID(),
      job("k-judge", "bash", 0, { tests, interactor: { ...checker, language: "java" } }),
    );
    expect(admission).toEqual({
      admitted: false,
      reason: "interactor language java is not available on this worker",
    });
  });

  it("the lease adds the checker's compile and one checker run per test", () => {
    const lease = judgeLeaseMs({ tests, checker }, { checker: kotlin }, config.limits);
    expect(lease).toBe(
      resolveCompileLimits(kotlin, config.limits).wallTimeMs + 3 * 1000 + 4 * STEP_OVERHEAD_MS,
    );
    expect(judgeLeaseMs({ tests }, {}, config.limits)).toBe(0);
  });
});
