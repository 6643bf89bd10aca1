import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzedApis } from "./fuzz/apis.ts";
import { formatTallies, fuzzRoutes } from "./fuzz/fuzz-requests.ts";
import { type FuzzTarget, startFuzzTarget } from "./fuzz/fuzz-service.ts";

// The bounded request fuzz of `npm test`: a fixed seed and a few dozen hostile requests per route
// of every API in fuzz/apis.ts (a few hundred in all). The long run with fresh seeds is
// `npm run fuzz`; a case it finds is pinned in test/api/fuzz-regressions.test.ts.

const SEED = 20261202;
const CASES_PER_ROUTE = 30;

let target: FuzzTarget;

beforeAll(async () => {
  target = await startFuzzTarget();
});

afterAll(async () => {
  await target?.close();
});

describe("fuzzed requests", () => {
  it("every hostile request to every route gets an answer in time, a 4xx in the API's error shape when refused, never a 5xx", async () => {
    const tallies = await fuzzRoutes(fuzzedApis, {
      port: target.service.api.port,
      context: target.context,
      seed: SEED,
      casesPerRoute: CASES_PER_ROUTE,
      answerTimeoutMs: 10_000,
    });
    const problems = tallies.flatMap((t) => t.problems);
    expect(problems, formatTallies(tallies)).toEqual([]);
    expect(tallies.every((t) => t.cases >= CASES_PER_ROUTE)).toBe(true);
    // Refusals were exercised, not only happy paths.
    expect(tallies.every((t) => Object.keys(t.byStatus).some((status) => status.startsWith("4")))).toBe(true);
    expect((await target.service.get("/healthz")).status).toBe(200);
  });
});
