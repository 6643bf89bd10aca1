import type { ApiSettings } from "../config/load-config.ts";
import { type BatchSubmission, BatchSubmissionSchema } from "../contract/batch.ts";
import { ServiceError } from "../contract/errors.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { LanguageDefinition } from "../contract/language.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import {
  type FieldProblem,
  fieldProblems,
  MAX_PROBLEMS_LISTED,
  refuseLongArrays,
  validateJobRequest,
  validationError,
} from "./validate-request.ts";

// POST /batches: the envelope, then every job with the same checks as POST /jobs. Problems of all
// jobs are collected (up to a cap) and named by index, `jobs[17].language`, so a grader fixes its
// whole batch in one round trip. Jobs inside a batch take no callbackUrl: the batch has one.

export interface ValidatedBatch {
  requests: JobRequest[];
  callbackUrl: string | undefined;
}

export function validateBatch(
  body: unknown,
  api: Pick<ApiSettings, "MAX_BATCH_JOBS" | "MAX_TESTS">,
  languages: ReadonlyMap<string, LanguageDefinition>,
  max: StepLimitValues,
): ValidatedBatch {
  if (
    typeof body === "object" &&
    body !== null &&
    Array.isArray((body as { jobs?: unknown }).jobs) &&
    (body as { jobs: unknown[] }).jobs.length > api.MAX_BATCH_JOBS
  ) {
    throw new ServiceError("E_BATCH_TOO_LARGE", String(api.MAX_BATCH_JOBS), { field: "jobs" });
  }
  // No job's field holds more than 1,000 items; the envelope's jobs are counted above.
  refuseLongArrays(body, Math.max(api.MAX_BATCH_JOBS, api.MAX_TESTS, 1000));
  const parsed = BatchSubmissionSchema.safeParse(body);
  if (!parsed.success) throw validationError(fieldProblems(parsed.error));
  const batch: BatchSubmission = parsed.data;

  const problems: FieldProblem[] = [];
  const requests: JobRequest[] = [];
  batch.jobs.forEach((job, index) => {
    if (problems.length >= MAX_PROBLEMS_LISTED) return;
    const prefix = `jobs[${index}]`;
    try {
      const { request, callbackUrl } = validateJobRequest(job, api, languages, max);
      if (callbackUrl !== undefined) {
        problems.push({
          field: `${prefix}.callbackUrl`,
          message: "set callbackUrl on the batch, not its jobs",
        });
      }
      requests.push(request);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      problems.push(...problemsOf(error, prefix));
    }
  });
  if (problems.length > 0) throw validationError(problems);
  return { requests, callbackUrl: batch.callbackUrl };
}

/** A single job's error as field problems under `jobs[i]`. */
function problemsOf(error: ServiceError, prefix: string): FieldProblem[] {
  const details = error.details;
  if (Array.isArray(details)) {
    return (details as FieldProblem[]).map((p) => ({
      field: p.field === "(body)" ? prefix : `${prefix}.${p.field}`,
      message: p.message,
    }));
  }
  const field = (details as { field?: string } | undefined)?.field;
  return [{ field: field ? `${prefix}.${field}` : prefix, message: `${error.code}: ${error.message}` }];
}
