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

export function fieldProblems(error: ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : "(body)",
    message: issue.message,
  }));
}

export function validationError(problems: FieldProblem[]): ServiceError {
  const summary = problems.map((p) => `${p.field}: ${p.message}`).join("; ");
  return new ServiceError("E_VALIDATION", summary, problems);
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
