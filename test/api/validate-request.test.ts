// Request validation at the edge (api/validate-request.ts, api/validate-batch.ts), without Redis or
// the sandbox: every refusal carries a stable code and names the field it is about. File paths and
// bodies that never reach validation (JSON, media type, size) are covered over HTTP in
// http-api.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { validateBatch } from "../../api/validate-batch.ts";
import { parseIdempotencyKey, parseWaitMs, validateJobRequest } from "../../api/validate-request.ts";
import { loadConfig } from "../../config/load-config.ts";
import { ServiceError } from "../../contract/errors.ts";
import type { LanguageDefinition } from "../../contract/language.ts";
import { lowerCeilings } from "../../contract/resolve-limits.ts";
import { loadLanguageDefinitions } from "../../rootfs-recipes/lib/language-definitions.ts";

const config = loadConfig({ MAX_TESTS: "3", MAX_BATCH_JOBS: "4", RUN_WAIT_MAX_MS: "60000" });
const max = config.limits.ceilings;
let languages: Map<string, LanguageDefinition>;

beforeAll(async () => {
  languages = new Map((await loadLanguageDefinitions(config.images.RECIPES_DIR)).map((d) => [d.id, d]));
});

/** The error a validation throws: its code and every field it names. */
function refusal(validate: () => unknown): { code: string; fields: string[] } {
  try {
    validate();
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    const details = error.details;
    const fields = Array.isArray(details)
      ? details.map((problem: { field: string }) => problem.field)
      : [(details as { field: string }).field];
    return { code: error.code, fields };
  }
  throw new Error("expected a refusal");
}

const valid = { language: "python", source: "print(1)" };
const job = (body: unknown) => () => validateJobRequest(body, config.api, languages, max);

describe("validating a job request", () => {
  it("a valid request comes back with the schema's defaults applied", () => {
    const { request, callbackUrl } = validateJobRequest(valid, config.api, languages, max);
    expect(request).toEqual({ ...valid, stdin: "", args: [], compare: "trim", limits: {} });
    expect(callbackUrl).toBeUndefined();
  });

  it.each([
    ["a body that is not an object", [], "E_VALIDATION", "(body)"],
    ["a missing language", { source: "x" }, "E_VALIDATION", "language"],
    ["neither source nor files", { language: "python" }, "E_VALIDATION", "source"],
    ["an unknown field", { ...valid, colour: "red" }, "E_VALIDATION", "(body)"],
    ["an unknown language", { ...valid, language: "klingon" }, "E_UNKNOWN_LANGUAGE", "language"],
    [
      "a second file at the same path",
      {
        language: "python",
        files: [
          { path: "main.py", content: "" },
          { path: "main.py", content: "" },
        ],
      },
      "E_VALIDATION",
      "files.1.path",
    ],
    [
      // Issue 9 item 1a: "a" after "a/big" made the worker fail half-way and leak the work dir.
      "a file path that is also the directory of another file",
      {
        language: "python",
        files: [
          { path: "main.py", content: "" },
          { path: "a/big", content: "x" },
          { path: "a", content: "" },
        ],
      },
      "E_VALIDATION",
      "files.1.path",
    ],
    [
      "more tests than MAX_TESTS",
      { ...valid, tests: Array(4).fill({ expectedOutput: "" }) },
      "E_VALIDATION",
      "tests",
    ],
    [
      "a limit above the operator's ceiling",
      { ...valid, limits: { wallTimeMs: max.wallTimeMs + 1 } },
      "E_LIMIT_ABOVE_CEILING",
      "limits.wallTimeMs",
    ],
    ["a negative limit", { ...valid, limits: { pids: -1 } }, "E_VALIDATION", "limits.pids"],
    [
      "one test's limit above the operator's ceiling",
      { ...valid, tests: [{ expectedOutput: "" }, { expectedOutput: "", limits: { pids: max.pids + 1 } }] },
      "E_LIMIT_ABOVE_CEILING",
      "tests.1.limits.pids",
    ],
    [
      "an unknown compare mode on one test",
      { ...valid, tests: [{ expectedOutput: "", compare: "fuzzy" }] },
      "E_VALIDATION",
      "tests.0.compare",
    ],
    [
      "a negative float epsilon",
      { ...valid, compare: { mode: "float", absoluteEpsilon: -1 } },
      "E_VALIDATION",
      "compare.absoluteEpsilon",
    ],
    [
      "a callback URL with credentials",
      { ...valid, callbackUrl: "https://u:p@example.com/" },
      "E_VALIDATION",
      "callbackUrl",
    ],
  ])("%s is refused with %s naming %s", (_what, body, code, field) => {
    expect(refusal(job(body))).toEqual({ code, fields: [field] });
  });

  it("an API key's own ceiling is enforced below the operator's", () => {
    const keyMax = lowerCeilings(max, { cpuTimeMs: 500 });
    const tooMuch = () =>
      validateJobRequest({ ...valid, limits: { cpuTimeMs: 600 } }, config.api, languages, keyMax);
    expect(refusal(tooMuch)).toEqual({ code: "E_LIMIT_ABOVE_CEILING", fields: ["limits.cpuTimeMs"] });
  });

  it("?waitMs= and Idempotency-Key are checked the same way", () => {
    expect(parseWaitMs(undefined, config.api)).toBe(config.api.RUN_WAIT_DEFAULT_MS);
    expect(parseWaitMs("250", config.api)).toBe(250);
    expect(refusal(() => parseWaitMs("60001", config.api))).toEqual({
      code: "E_VALIDATION",
      fields: ["waitMs"],
    });
    expect(refusal(() => parseWaitMs("-1", config.api))).toEqual({
      code: "E_VALIDATION",
      fields: ["waitMs"],
    });
    expect(parseIdempotencyKey("sub-42")).toBe("sub-42");
    expect(refusal(() => parseIdempotencyKey("has space"))).toEqual({
      code: "E_VALIDATION",
      fields: ["Idempotency-Key"],
    });
  });
});

describe("validating a batch", () => {
  const batch = (body: unknown) => () => validateBatch(body, config.api, languages, max);

  it("problems of every job are listed, each under jobs[i]", () => {
    const body = {
      jobs: [
        valid,
        { ...valid, language: "klingon" },
        { language: "python" },
        { ...valid, callbackUrl: "https://example.com/" },
      ],
    };
    expect(refusal(batch(body))).toEqual({
      code: "E_VALIDATION",
      fields: ["jobs[1].language", "jobs[2].source", "jobs[3].callbackUrl"],
    });
  });

  it("a batch above MAX_BATCH_JOBS is refused before any job is checked", () => {
    expect(refusal(batch({ jobs: Array(5).fill(valid) }))).toEqual({
      code: "E_BATCH_TOO_LARGE",
      fields: ["jobs"],
    });
  });

  it("an empty batch names jobs", () => {
    expect(refusal(batch({ jobs: [] }))).toEqual({ code: "E_VALIDATION", fields: ["jobs"] });
  });
});
