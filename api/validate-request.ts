import type { ZodError } from "zod";
import type { ApiSettings } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";
import { type JobRequest, JobSubmissionSchema } from "../contract/job-request.ts";
import type { LanguageDefinition } from "../contract/language.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { checkCeilings, validateJudging } from "./validate-judging.ts";

// Validation happens once, here at the edge: schema, then the checks that need configuration or
// the language list (ceilings, language id, entry file, test count). Every error names its field.

export interface FieldProblem {
  field: string;
  message: string;
}

/** The most problems one answer lists (a body can break thousands of fields). */
export const MAX_PROBLEMS_LISTED = 50;

export function fieldProblems(error: ZodError): FieldProblem[] {
  return error.issues.slice(0, MAX_PROBLEMS_LISTED).map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : "(body)",
    message: issue.message,
  }));
}

export function validationError(problems: FieldProblem[]): ServiceError {
  const summary = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
  return new ServiceError("E_VALIDATION", summary, problems);
}

/** No field of a job request holds more items than this (a group's test indices: 1,000). */
const MAX_FIELD_ITEMS = 1000;

/**
 * Refuses a body holding an array longer than `max` anywhere, before the schema sees it: the
 * schema checks every item even of an array far past its limit, so a 1 MB body of 200,000 items
 * held the event loop for seconds and was answered with a 20 MB list of problems (found by the
 * request fuzzer). Iterative, and a path is spelled only for the answer, so deep nesting costs
 * neither stack nor quadratic time.
 */
export function refuseLongArrays(body: unknown, max: number): void {
  type Node = { value: object; key: string; parent: Node | null };
  const pathOf = (node: Node) => {
    const keys: string[] = [];
    for (let at: Node | null = node; at?.parent; at = at.parent) keys.unshift(at.key);
    return keys.length > 0 ? keys.join(".") : "(body)";
  };
  if (body === null || typeof body !== "object") return;
  const pending: Node[] = [{ value: body, key: "", parent: null }];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (Array.isArray(node.value) && node.value.length > max) {
      throw validationError([
        { field: pathOf(node), message: `Array must contain at most ${max} element(s)` },
      ]);
    }
    for (const [key, value] of Object.entries(node.value)) {
      if (value !== null && typeof value === "object") pending.push({ value, key, parent: node });
    }
  }
}

export interface ValidatedSubmission {
  request: JobRequest;
  callbackUrl: string | undefined;
}

/**
 * A job submission: `max` is what the caller may ask for (the operator's ceilings, lowered by its
 * API key's: contract/resolve-limits.ts lowerCeilings).
 */
export function validateJobRequest(
  body: unknown,
  api: Pick<ApiSettings, "MAX_TESTS">,
  languages: ReadonlyMap<string, LanguageDefinition>,
  max: StepLimitValues,
): ValidatedSubmission {
  refuseLongArrays(body, Math.max(api.MAX_TESTS, MAX_FIELD_ITEMS));
  const parsed = JobSubmissionSchema.safeParse(body);
  if (!parsed.success) throw validationError(fieldProblems(parsed.error));
  const { callbackUrl, ...request } = parsed.data;

  const language = languages.get(request.language);
  if (!language) throw new ServiceError("E_UNKNOWN_LANGUAGE", request.language, { field: "language" });

  if (request.tests && request.tests.length > api.MAX_TESTS) {
    throw validationError([{ field: "tests", message: `at most ${api.MAX_TESTS} tests per job` }]);
  }
  if (request.files && !request.files.some((file) => file.path === language.sourceFile)) {
    throw new ServiceError("E_MISSING_ENTRY_FILE", language.sourceFile, { field: "files" });
  }

  checkCeilings(request.limits, "limits", max);
  validateJudging(request, languages, max);
  return { request, callbackUrl };
}

/** `?waitMs=` of POST /run: a whole number of milliseconds up to RUN_WAIT_MAX_MS. */
export function parseWaitMs(
  raw: unknown,
  api: Pick<ApiSettings, "RUN_WAIT_DEFAULT_MS" | "RUN_WAIT_MAX_MS">,
): number {
  if (raw === undefined) return Math.min(api.RUN_WAIT_DEFAULT_MS, api.RUN_WAIT_MAX_MS);
  const value = typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value > api.RUN_WAIT_MAX_MS) {
    throw validationError([
      {
        field: "waitMs",
        message: `must be a whole number of milliseconds from 0 to ${api.RUN_WAIT_MAX_MS}`,
      },
    ]);
  }
  return value;
}

/** Idempotency-Key header: 1–255 visible ASCII characters. */
export function parseIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(raw)) {
    throw validationError([
      { field: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" },
    ]);
  }
  return raw;
}
