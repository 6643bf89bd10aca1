// Limit resolution (contract/resolve-limits.ts): what GET /languages lists, what a step gets and
// what a job's running-jobs lease is sized from.
import { describe, expect, it } from "vitest";
import type { JobRequest, JobTest } from "../../contract/job-request.ts";
import { languageInfo } from "../../contract/language-info.ts";
import {
  jobWallTimeMs,
  lowerCeilings,
  type OperatorLimits,
  resolveCompileLimits,
  resolveRunLimits,
  resolveTestLimits,
} from "../../contract/resolve-limits.ts";

const operator: OperatorLimits = {
  ceilings: { cpuTimeMs: 10_000, wallTimeMs: 30_000, memoryBytes: 1 << 30, pids: 256, outputBytes: 4 << 20 },
  run: { cpuTimeMs: 2000, wallTimeMs: 5000, memoryBytes: 256 << 20, pids: 64, outputBytes: 65_536 },
  compile: { cpuTimeMs: 10_000, wallTimeMs: 20_000, memoryBytes: 512 << 20, pids: 32, outputBytes: 65_536 },
};

const kotlin = {
  id: "kotlin",
  name: "Kotlin",
  versionCommand: ["/usr/bin/kotlinc", "-version"],
  sourceFile: "main.kt",
  compile: ["/usr/bin/kotlinc", "main.kt"],
  run: ["/usr/bin/java", "-jar", "main.jar"],
  env: {},
  limits: { wallTimeMs: 20_000, memoryBytes: 512 << 20 },
  compileLimits: { cpuTimeMs: 90_000, wallTimeMs: 120_000 },
};

const request = (overrides: Partial<JobRequest> = {}): JobRequest => ({
  language: "kotlin",
  source: "fun main() {}",
  stdin: "",
  args: [],
  compare: "trim",
  limits: {},
  ...overrides,
});

describe("limit resolution", () => {
  it("each run limit is the request's, else the language's, else the operator default", () => {
    expect(resolveRunLimits({ cpuTimeMs: 1000 }, kotlin, operator)).toEqual({
      cpuTimeMs: 1000,
      wallTimeMs: 20_000,
      memoryBytes: 512 << 20,
      pids: 64,
      outputBytes: 65_536,
    });
  });

  it("compile limits come from the language, else the operator's compile defaults", () => {
    expect(resolveCompileLimits(kotlin, operator)).toEqual({
      ...operator.compile,
      cpuTimeMs: 90_000,
      wallTimeMs: 120_000,
    });
  });

  it("GET /languages lists exactly the limits a job gets", () => {
    const info = languageInfo(kotlin, "kotlinc-jvm 1.3.31", operator);
    expect(info.limits).toEqual(resolveRunLimits({}, kotlin, operator));
    expect(info.compileLimits).toEqual(resolveCompileLimits(kotlin, operator));
    expect(languageInfo({ ...kotlin, compile: null }, null, operator).compileLimits).toBeNull();
  });

  it("a job's wall time is its compile plus one run per test at the resolved limits", () => {
    expect(jobWallTimeMs(request(), kotlin, operator)).toBe(120_000 + 20_000);
    const tests = [1, 2, 3].map(() => ({ stdin: "", expectedOutput: "" }));
    expect(jobWallTimeMs(request({ tests, limits: { wallTimeMs: 1000 } }), kotlin, operator)).toBe(
      120_000 + 3 * 1000,
    );
    expect(jobWallTimeMs(request(), { ...kotlin, compile: null }, operator)).toBe(20_000);
  });

  it("a test's own limits override the job's for that test, in its limits and in the job's wall time", () => {
    const tests = [
      { stdin: "", expectedOutput: "" },
      { stdin: "", expectedOutput: "", limits: { wallTimeMs: 5000, pids: 3 } },
    ];
    const job = request({ tests, limits: { wallTimeMs: 1000, cpuTimeMs: 700 } });
    expect(resolveTestLimits(tests[1] as JobTest, job.limits, kotlin, operator)).toEqual({
      ...resolveRunLimits({ cpuTimeMs: 700 }, kotlin, operator),
      wallTimeMs: 5000,
      pids: 3,
    });
    expect(jobWallTimeMs(job, { ...kotlin, compile: null }, operator)).toBe(1000 + 5000);
  });

  it("an API key's ceilings lower the operator's, never raise them", () => {
    expect(lowerCeilings(operator.ceilings, { cpuTimeMs: 500, wallTimeMs: 60_000 })).toEqual({
      ...operator.ceilings,
      cpuTimeMs: 500,
    });
    expect(lowerCeilings(operator.ceilings)).toEqual(operator.ceilings);
  });
});
