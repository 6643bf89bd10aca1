import type { JobRequest } from "./job-request.ts";
import type { Language } from "./language.ts";
import type { StepLimits } from "./limits.ts";

// Limit resolution, the one place that says what a step may use: each limit is the first one set
// along request → language → operator default (compile steps: language → operator default; a
// request cannot change them). The API lists the results (GET /languages), the worker enforces
// them and sizes a job's running-jobs lease from them, so all three always agree.

/** Every per-step limit, set. */
export type StepLimitValues = Required<StepLimits>;

/** What the operator configured: request ceilings, run-step and compile-step defaults. */
export interface OperatorLimits {
  ceilings: StepLimitValues;
  run: StepLimitValues;
  compile: StepLimitValues;
}

const limitNames = ["cpuTimeMs", "wallTimeMs", "memoryBytes", "pids", "outputBytes"] as const;

function firstSet(layers: readonly StepLimits[], fallback: StepLimitValues): StepLimitValues {
  const pick = (name: (typeof limitNames)[number]) =>
    layers.find((layer) => layer[name] !== undefined)?.[name] ?? fallback[name];
  return {
    cpuTimeMs: pick("cpuTimeMs"),
    wallTimeMs: pick("wallTimeMs"),
    memoryBytes: pick("memoryBytes"),
    pids: pick("pids"),
    outputBytes: pick("outputBytes"),
  };
}

/** Limits of each run step of a job. */
export function resolveRunLimits(
  request: StepLimits,
  language: Pick<Language, "limits">,
  operator: Pick<OperatorLimits, "run">,
): StepLimitValues {
  return firstSet([request, language.limits], operator.run);
}

/** Limits of one test's run: the test's own limits override the job's, field by field. */
export function resolveTestLimits(
  test: { limits?: StepLimits | undefined },
  request: StepLimits,
  language: Pick<Language, "limits">,
  operator: Pick<OperatorLimits, "run">,
): StepLimitValues {
  return firstSet([test.limits ?? {}, request, language.limits], operator.run);
}

/** Limits of a language's compile step. */
export function resolveCompileLimits(
  language: Pick<Language, "compileLimits">,
  operator: Pick<OperatorLimits, "compile">,
): StepLimitValues {
  return firstSet([language.compileLimits], operator.compile);
}

/**
 * The longest a job's steps may run by their wall-time limits: the compile step (compiled
 * languages) plus one run per test, or the single plain run.
 */
export function jobWallTimeMs(
  request: Pick<JobRequest, "limits" | "tests">,
  language: Pick<Language, "compile" | "limits" | "compileLimits">,
  operator: Pick<OperatorLimits, "run" | "compile">,
): number {
  const compileMs = language.compile ? resolveCompileLimits(language, operator).wallTimeMs : 0;
  const tests: { limits?: StepLimits | undefined }[] = request.tests ?? [{}];
  const runsMs = tests.reduce(
    (sum, test) => sum + resolveTestLimits(test, request.limits, language, operator).wallTimeMs,
    0,
  );
  return compileMs + runsMs;
}

/** The request limits a caller may ask for: the operator's ceilings, lowered by its API key's own. */
export function lowerCeilings(operator: StepLimitValues, key: StepLimits = {}): StepLimitValues {
  return {
    cpuTimeMs: Math.min(operator.cpuTimeMs, key.cpuTimeMs ?? operator.cpuTimeMs),
    wallTimeMs: Math.min(operator.wallTimeMs, key.wallTimeMs ?? operator.wallTimeMs),
    memoryBytes: Math.min(operator.memoryBytes, key.memoryBytes ?? operator.memoryBytes),
    pids: Math.min(operator.pids, key.pids ?? operator.pids),
    outputBytes: Math.min(operator.outputBytes, key.outputBytes ?? operator.outputBytes),
  };
}
