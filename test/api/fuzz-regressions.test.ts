import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

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
