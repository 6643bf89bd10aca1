import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../api/api-key-store.ts";
import type { KeyLimits } from "../../contract/api-key.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// API keys from Redis: hashed storage, per-key rate limits and quotas with standard headers,
// per-key ceilings, revocation, the admin CLI, and the admin view's own key.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ADMIN_KEY = "admin-key-0123456789abcdef";

let redis: TestRedis;
let client: Redis;
let service: TestService;

const unlimited: KeyLimits = { requestsPerMinute: 0, maxRunningJobs: 0, maxQueuedJobs: 0, ceilings: {} };
const job = { language: "bash", source: "true" };

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false, env: { ADMIN_API_KEY: ADMIN_KEY } });
  client = new Redis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await service?.close();
  await redis?.stop();
});

const newKey = async (limits: Partial<KeyLimits>) =>
  (await createKey(client, service.config.queue.QUEUE_PREFIX, "test", { ...unlimited, ...limits })).key;
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe("API keys", () => {
  it("once a key exists, requests without one or with an unknown one get 401", async () => {
    await newKey({});
    expect((await service.post("/jobs", job)).status).toBe(401);
    expect((await service.post("/jobs", job, as("cbk_not-a-key"))).status).toBe(401);
    expect((await fetch(`${service.api.url}/healthz`)).status).toBe(200);
  });

  it("only the key's SHA-256 is stored, never the key", async () => {
    const key = await newKey({});
    const dump = JSON.stringify(await client.hgetall(`${service.config.queue.QUEUE_PREFIX}:api-keys`));
    const records = JSON.stringify(
      await client.hgetall(`${service.config.queue.QUEUE_PREFIX}:api-key-records`),
    );
    expect(dump + records).not.toContain(key);
  });

  it("the requests-per-minute limit answers 429 with RateLimit headers and Retry-After", async () => {
    const key = await newKey({ requestsPerMinute: 3 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${service.api.url}/languages`, { headers: as(key) });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-limit")).toBe("3");
        expect(last.headers.get("ratelimit-remaining")).toBe("2");
        expect(last.headers.get("ratelimit-policy")).toBe("3;w=60");
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const reset = Number(last?.headers.get("ratelimit-reset"));
    expect(reset).toBeGreaterThanOrEqual(1);
    expect(reset).toBeLessThanOrEqual(60);
    expect(last?.headers.get("retry-after")).toBe(String(reset));
    expect(last?.headers.get("ratelimit-remaining")).toBe("0");
    expect((await (last as Response).json()).error.code).toBe("E_RATE_LIMITED");
  });

  it("the queued-jobs quota answers 429 with Retry-After, for jobs and for batches", async () => {
    const key = await newKey({ maxQueuedJobs: 3 });
    for (let i = 0; i < 3; i++) expect((await service.post("/jobs", job, as(key))).status).toBe(202);
    const refused = await service.post("/jobs", job, as(key));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(service.config.api.QUOTA_RETRY_AFTER_S));
    expect((await refused.json()).error).toMatchObject({
      code: "E_QUOTA_EXCEEDED",
      details: { maxQueuedJobs: 3 },
    });
    const other = await newKey({ maxQueuedJobs: 3 });
    const batch = await service.post("/batches", { jobs: [job, job, job, job] }, as(other));
    expect(batch.status).toBe(429);
  });

  it("a key's resource ceiling is below the operator's, and a request above it is a 400", async () => {
    const key = await newKey({ ceilings: { cpuTimeMs: 500 } });
    const above = await service.post("/jobs", { ...job, limits: { cpuTimeMs: 501 } }, as(key));
    expect(above.status).toBe(400);
    expect((await above.json()).error).toMatchObject({
      code: "E_LIMIT_ABOVE_CEILING",
      details: { maximum: 500 },
    });
    expect((await service.post("/jobs", { ...job, limits: { cpuTimeMs: 500 } }, as(key))).status).toBe(202);
  });

  it("another key's job is not found", async () => {
    const [a, b] = [await newKey({}), await newKey({})];
    const { id } = await (await service.post("/jobs", job, as(a))).json();
    expect((await fetch(`${service.api.url}/jobs/${id}`, { headers: as(a) })).status).toBe(200);
    expect((await fetch(`${service.api.url}/jobs/${id}`, { headers: as(b) })).status).toBe(404);
    expect((await fetch(`${service.api.url}/jobs/${id}`, { method: "DELETE", headers: as(b) })).status).toBe(
      404,
    );
  });

  it("npm run keys creates, lists and revokes keys; a revoked key gets 401", async () => {
    const env = { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: service.config.queue.QUEUE_PREFIX };
    const keys = (...args: string[]) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", "app/keys-cli.ts", ...args], {
        cwd: root,
        env,
      });
    const created = JSON.parse(
      (await keys("create", "--name", "grader", "--rpm", "100", "--max-queued", "7")).stdout,
    );
    expect(created.key).toMatch(/^cbk_/);
    expect(created.limits).toMatchObject({ requestsPerMinute: 100, maxQueuedJobs: 7 });
    expect((await service.post("/jobs", job, as(created.key))).status).toBe(202);
    const listed = (await keys("list")).stdout;
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.key);
    expect(listed).not.toContain(created.webhookSecret);
    await keys("revoke", created.id);
    expect((await service.post("/jobs", job, as(created.key))).status).toBe(401);
  });
});

describe("the admin view", () => {
  const url = () => `${service.api.url}/admin/queues`;
  it("needs ADMIN_API_KEY: none sent is 401 with a Basic challenge, a wrong one 403", async () => {
    const none = await fetch(url());
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect((await fetch(url(), { headers: as("wrong-key-0123456789") })).status).toBe(403);
  });

  it("serves bull-board with the admin key, as Bearer token or Basic password", async () => {
    const bearer = await fetch(url(), { headers: as(ADMIN_KEY) });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toMatch(/bull/i);
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString("base64")}`;
    expect((await fetch(url(), { headers: { authorization: basic } })).status).toBe(200);
    const queues = await fetch(`${url()}/api/queues`, { headers: as(ADMIN_KEY) });
    expect(queues.status).toBe(200);
  });
});
