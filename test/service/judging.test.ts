// Contest judging through the whole service (real queue, worker and sandbox): per-test limits and
// built-in checkers per test, custom checker programs, subtasks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED judging tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

describe.skipIf(unavailable !== null)(`judging tests ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({ redisUrl: redis.url, worker: true });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("a test's own wall-time limit overrides the job's for that test only", async () => {
    const result = await runJob(service, {
      language: "bash",
      source: "read s; sleep $s; echo done",
      limits: { wallTimeMs: 3000 },
      tests: [
        { stdin: "0.5\n", expectedOutput: "done\n" },
        { stdin: "0.5\n", expectedOutput: "done\n", limits: { wallTimeMs: 200 } },
      ],
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual(["accepted", "time_limit"]);
    expect(result.runs[1].stopReason).toBe("wall_time");
    expect(result.verdict).toBe("time_limit");
  });

  it("each test may name its own built-in checker: float with epsilons, yes_no, case_insensitive", async () => {
    const result = await runJob(service, {
      language: "python",
      source: "import sys\nprint(sys.stdin.read().strip())",
      compare: "exact",
      tests: [
        {
          stdin: "0.3333334",
          expectedOutput: "0.3333333",
          compare: { mode: "float", absoluteEpsilon: 1e-6, relativeEpsilon: 0 },
        },
        { stdin: "0.34", expectedOutput: "0.3333333", compare: { mode: "float", absoluteEpsilon: 1e-3 } },
        { stdin: "yes", expectedOutput: "YES", compare: "yes_no" },
        { stdin: "Hello World", expectedOutput: "hello world", compare: "case_insensitive" },
        { stdin: "Hello World", expectedOutput: "hello world" },
      ],
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "accepted",
      "wrong_answer",
      "accepted",
      "accepted",
      "wrong_answer",
    ]);
  });
});
