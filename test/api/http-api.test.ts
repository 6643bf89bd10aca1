import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// The HTTP edge without a worker: validation, errors, idempotency, backpressure and cancelling
// queued jobs need only the API and a real Redis.

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({
    redisUrl: redis.url,
    worker: false,
    env: { BODY_LIMIT_BYTES: "20000" },
  });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

const valid = { language: "python", source: "print(1)" };

const invalidBodies: [string, unknown, string, string][] = [
  ["a missing language", { source: "x" }, "E_VALIDATION", "language"],
  ["neither source nor files", { language: "python" }, "E_VALIDATION", "source"],
  [
    "both source and files",
    { ...valid, files: [{ path: "main.py", content: "" }] },
    "E_VALIDATION",
    "source",
  ],
  ["an unknown language", { ...valid, language: "klingon" }, "E_UNKNOWN_LANGUAGE", "language"],
  ["an unknown field", { ...valid, colour: "red" }, "E_VALIDATION", "colour"],
  ["a non-string source", { ...valid, source: 42 }, "E_VALIDATION", "source"],
  [
    "a file path with ..",
    { language: "python", files: [{ path: "../x", content: "" }] },
    "E_VALIDATION",
    "files.0.path",
  ],
  [
    "an absolute file path",
    { language: "python", files: [{ path: "/etc/x", content: "" }] },
    "E_VALIDATION",
    "files.0.path",
  ],
  [
    "bad base64",
    { language: "python", files: [{ path: "main.py", content: "!!", encoding: "base64" }] },
    "E_VALIDATION",
    "files.0.content",
  ],
  [
    "files without the entry file",
    { language: "python", files: [{ path: "x.py", content: "" }] },
    "E_MISSING_ENTRY_FILE",
    "files",
  ],
  ["an unknown compare mode", { ...valid, compare: "fuzzy" }, "E_VALIDATION", "compare"],
  [
    "a test without expectedOutput",
    { ...valid, tests: [{ stdin: "" }] },
    "E_VALIDATION",
    "tests.0.expectedOutput",
  ],
  ["an empty tests list", { ...valid, tests: [] }, "E_VALIDATION", "tests"],
  ["a negative limit", { ...valid, limits: { cpuTimeMs: -1 } }, "E_VALIDATION", "limits.cpuTimeMs"],
  ["a fractional limit", { ...valid, limits: { memoryBytes: 1.5 } }, "E_VALIDATION", "limits.memoryBytes"],
  ["an unknown limit", { ...valid, limits: { diskBytes: 1 } }, "E_VALIDATION", "limits"],
  [
    "a CPU limit above the ceiling",
    { ...valid, limits: { cpuTimeMs: 10_000_000 } },
    "E_LIMIT_ABOVE_CEILING",
    "limits.cpuTimeMs",
  ],
  [
    "a memory limit above the ceiling",
    { ...valid, limits: { memoryBytes: 2 ** 40 } },
    "E_LIMIT_ABOVE_CEILING",
    "limits.memoryBytes",
  ],
  ["non-string args", { ...valid, args: [1] }, "E_VALIDATION", "args.0"],
  ["a JSON array body", [valid], "E_VALIDATION", "(body)"],
];

describe("invalid requests get a 4xx with a stable code naming the field", () => {
  for (const [name, body, code, field] of invalidBodies) {
    it(`${name} is rejected with 400 ${code} naming ${field}`, async () => {
      for (const route of ["/jobs", "/run"]) {
        const response = await service.post(route, body);
        const json = await response.json();
        expect(response.status, JSON.stringify(json)).toBe(400);
        expect(json.error.code).toBe(code);
        expect(json.error.message).toContain(field);
      }
    });
  }

  it("malformed JSON is rejected with 400 E_INVALID_JSON", async () => {
    const response = await fetch(`${service.api.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"language": ',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("E_INVALID_JSON");
  });

  it("a body that is not JSON is rejected with 415", async () => {
    const response = await fetch(`${service.api.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "print(1)",
    });
    expect(response.status).toBe(415);
    expect((await response.json()).error.code).toBe("E_UNSUPPORTED_MEDIA_TYPE");
  });

  it("a body above the size limit is rejected with 413", async () => {
    const response = await service.post("/jobs", { ...valid, source: "x".repeat(50_000) });
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe("E_BODY_TOO_LARGE");
  });

  it("a waitMs above the maximum is rejected with 400 naming waitMs", async () => {
    const response = await service.post("/run?waitMs=999999999", valid);
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toContain("waitMs");
  });

  it("unknown routes and unknown jobs answer 404", async () => {
    expect((await service.get("/nope")).status).toBe(404);
    const unknown = await service.get("/jobs/00000000-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("E_JOB_NOT_FOUND");
    expect((await service.get("/jobs/not-a-uuid")).status).toBe(404);
    expect((await service.del("/jobs/not-a-uuid")).status).toBe(404);
  });
});

describe("queued jobs", () => {
  it("POST /jobs answers 202 with an id, and GET shows the job queued", async () => {
    const response = await service.post("/jobs", valid);
    expect(response.status).toBe(202);
    const { id } = await response.json();
    expect(await (await service.get(`/jobs/${id}`)).json()).toEqual({ id, status: "queued" });
  });

  it("a retried request with the same Idempotency-Key returns the same job", async () => {
    const headers = { "Idempotency-Key": "retry-me-1" };
    const first = await (await service.post("/jobs", valid, headers)).json();
    const second = await (await service.post("/jobs", valid, headers)).json();
    expect(second.id).toBe(first.id);
    const other = await (await service.post("/jobs", valid, { "Idempotency-Key": "retry-me-2" })).json();
    expect(other.id).not.toBe(first.id);
  });

  it("reusing an Idempotency-Key with a different body is rejected with 422", async () => {
    const headers = { "Idempotency-Key": "reused-key" };
    await service.post("/jobs", valid, headers);
    const response = await service.post("/jobs", { ...valid, source: "print(2)" }, headers);
    expect(response.status).toBe(422);
    expect((await response.json()).error.code).toBe("E_IDEMPOTENCY_MISMATCH");
  });

  it("cancelling a queued job removes it and it ends cancelled; cancelling again is harmless", async () => {
    const { id } = await (await service.post("/jobs", valid)).json();
    const response = await service.del(`/jobs/${id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id, status: "cancelled" });
    expect(await (await service.get(`/jobs/${id}`)).json()).toEqual({ id, status: "cancelled" });
    expect((await service.del(`/jobs/${id}`)).status).toBe(200);
  });

  it("POST /run answers 202 with the id when the job is still queued at the end of the wait", async () => {
    const response = await service.post("/run?waitMs=50", valid);
    expect(response.status).toBe(202);
    const body = await response.json();
    expect(body.status).toBe("queued");
    expect(response.headers.get("location")).toBe(`/jobs/${body.id}`);
  });

  it("GET /healthz answers ok; GET /readyz is 503 while no worker is alive", async () => {
    expect((await service.get("/healthz")).status).toBe(200);
    const ready = await service.get("/readyz");
    expect(ready.status).toBe(503);
    expect((await ready.json()).error.code).toBe("E_NOT_READY");
  });

  it("GET /languages lists the five host languages with their default limits", async () => {
    const languages = await (await service.get("/languages")).json();
    expect(languages.map((l: { id: string }) => l.id).sort()).toEqual([
      "bash",
      "c",
      "cpp",
      "javascript",
      "python",
    ]);
    const c = languages.find((l: { id: string }) => l.id === "c");
    expect(c.compiled).toBe(true);
    expect(c.compileLimits.cpuTimeMs).toBeGreaterThan(0);
  });
});

describe("backpressure", () => {
  it("a full queue answers 503 with Retry-After instead of growing", async () => {
    const small = await startTestService({
      redisUrl: redis.url,
      worker: false,
      env: { MAX_QUEUED_JOBS: "2" },
    });
    try {
      expect((await small.post("/jobs", valid)).status).toBe(202);
      expect((await small.post("/jobs", valid)).status).toBe(202);
      const full = await small.post("/jobs", valid);
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toBe(String(small.config.api.QUEUE_FULL_RETRY_AFTER_S));
      expect((await full.json()).error.code).toBe("E_QUEUE_FULL");
    } finally {
      await small.close();
    }
  });
});

describe("API keys", () => {
  it("with API_KEYS set, requests need a key as Bearer token or X-API-Key; health probes stay open", async () => {
    const keyed = await startTestService({ redisUrl: redis.url, worker: false, env: { API_KEYS: "k1,k2" } });
    try {
      const noKey = await keyed.get("/languages");
      expect(noKey.status).toBe(401);
      expect((await noKey.json()).error.code).toBe("E_UNAUTHORIZED");
      const url = `${keyed.api.url}/languages`;
      expect((await fetch(url, { headers: { authorization: "Bearer k2" } })).status).toBe(200);
      expect((await fetch(url, { headers: { "x-api-key": "k1" } })).status).toBe(200);
      expect((await fetch(url, { headers: { "x-api-key": "k3" } })).status).toBe(401);
      expect((await keyed.get("/healthz")).status).toBe(200);
    } finally {
      await keyed.close();
    }
  });

  it("refuses to listen on a non-loopback address without API keys", async () => {
    await expect(
      startTestService({ redisUrl: redis.url, worker: false, env: { HOST: "0.0.0.0" } }),
    ).rejects.toThrow(/API_KEYS/);
  });
});
