import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDLE_CHECK_MS } from "../../api/job-event-stream.ts";
import { MAX_PROBLEMS_LISTED } from "../../api/validate-request.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { sendRaw } from "../reliability/raw-http.ts";

// Requests that once answered 5xx (found by the request fuzzer, test/reliability/), each pinned
// here by the bug it was: every one must now be a 4xx naming the field.

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

const valid = { language: "python", source: "print(1)" };

describe("bugs the request fuzzer found", () => {
  it('a callbackUrl that is no URL at all ("python") is a 400 naming callbackUrl, not a 500 from new URL in a refinement', async () => {
    const cases: [string, unknown][] = [
      ["/run", { ...valid, callbackUrl: "python" }],
      ["/jobs", { ...valid, callbackUrl: "python" }],
      ["/jobs", { ...valid, callbackUrl: "" }],
      ["/jobs", { ...valid, callbackUrl: "http://" }],
      ["/batches", { jobs: [valid], callbackUrl: "python" }],
      ["/batches", { jobs: [{ ...valid, callbackUrl: "python" }] }],
    ];
    for (const [route, body] of cases) {
      const response = await service.post(route, body);
      const json = await response.json();
      expect(response.status, `${route} ${JSON.stringify(body)}: ${JSON.stringify(json)}`).toBe(400);
      expect(json.error.code).toBe("E_VALIDATION");
      expect(json.error.message).toContain("callbackUrl");
    }
  });
});

describe("found by the fuzzer of the compatibility APIs and the streams (lane fuzz2)", () => {
  const many = new Array(200_000).fill("x");

  it("an array far past its field's limit is refused before the schema walks it, with a bounded answer", async () => {
    const cases: [string, unknown][] = [
      ["/jobs", { ...valid, files: many }],
      ["/run", { ...valid, args: many }],
      ["/jobs", { ...valid, tests: [{ expectedOutput: "", files: many }] }],
      ["/batches", { jobs: [{ ...valid, outputFiles: many }] }],
    ];
    for (const [route, body] of cases) {
      const response = await service.post(route, body);
      const text = await response.text();
      expect(response.status, `${route}: ${text.slice(0, 300)}`).toBe(400);
      expect(JSON.parse(text).error.code).toBe("E_VALIDATION");
      expect(text).toMatch(/files|args|outputFiles/);
      // Was a 20 MB list of 200,000 problems.
      expect(text.length).toBeLessThan(20_000);
    }
    // Piston's execute reaches the same check, answered in Piston's shape.
    const piston = await service.post("/api/v2/execute", {
      language: "python",
      version: "*",
      files: [{ content: "print(1)" }],
      args: many,
    });
    const answer = await piston.json();
    expect(piston.status).toBe(400);
    expect(answer.message).toContain("args");
  });

  it("a body breaking thousands of fields lists at most MAX_PROBLEMS_LISTED of them", async () => {
    const tests = Array.from({ length: 100 }, () => ({ stdin: 1, expectedOutput: 2, compare: 3 }));
    const response = await service.post("/jobs", { ...valid, tests });
    const json = await response.json();
    expect(response.status).toBe(400);
    expect(json.error.code).toBe("E_VALIDATION");
    expect(json.error.message.split("; ").length).toBe(MAX_PROBLEMS_LISTED);
  });

  it("a deeply nested array costs no stack: 400 naming the field", async () => {
    const response = await fetch(`${service.api.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"language":"python","source":"x","args":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toContain("args");
  });

  it("the events of a job cancelled while queued end at once, not after the idle check", async () => {
    const { id } = await (await service.post("/jobs", valid)).json();
    expect((await fetch(`${service.api.url}/jobs/${id}`, { method: "DELETE" })).status).toBe(200);
    // Before, its stream held only job.queued and ended after IDLE_CHECK_MS without a read.
    const response = await fetch(`${service.api.url}/jobs/${id}/events`, {
      signal: AbortSignal.timeout(IDLE_CHECK_MS - 1000),
    });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toContain("event: job.queued");
    expect(text).toContain("event: job.failed");
    expect(text).toContain("E_JOB_CANCELLED");
  });
});

describe("found by the long fuzz run (lane fuzz2)", () => {
  it("POST /api/v2/packages with a JSON null body is Piston's 400 {message}, not a 500", async () => {
    for (const body of ["null", "1", '"x"', "[]"]) {
      const response = await fetch(`${service.api.url}/api/v2/packages`, { method: "POST", body });
      const json = await response.json();
      expect(response.status, body).toBe(400);
      expect(json.message).toBe("language is required as a string");
    }
  });

  it("a refused WebSocket upgrade is answered in the contract's error shape, not an empty or plain-text body", async () => {
    const upgrade = (path: string, headers: Record<string, string>) =>
      sendRaw(
        service.api.port,
        {
          method: "GET",
          target: path,
          headers: [["Connection", "Upgrade"], ["Upgrade", "websocket"], ...Object.entries(headers)],
        },
        10_000,
      );
    const cases: [string, Record<string, string>, number, string][] = [
      [
        "/jobs",
        { "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
        404,
        "E_NOT_FOUND",
      ],
      ["/ws", {}, 400, "E_BAD_REQUEST"],
      ["/api/v2/connect", { "Sec-WebSocket-Version": "99", "Sec-WebSocket-Key": "x" }, 400, "E_BAD_REQUEST"],
    ];
    for (const [path, headers, status, code] of cases) {
      const outcome = await upgrade(path, headers);
      expect(outcome.kind, path).toBe("answered");
      if (outcome.kind !== "answered") continue;
      expect(outcome.response.status, path).toBe(status);
      expect(JSON.parse(outcome.response.body.toString()).error.code, path).toBe(code);
    }
  });
});
