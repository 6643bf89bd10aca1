import { z } from "zod";
import { CompareSchema } from "./compare.ts";
import { TestGroupSchema } from "./groups.ts";
import {
  FilePathSchema,
  type JobFile,
  JobFileSchema,
  refineSourceOrFiles,
  refineUniquePaths,
} from "./job-file.ts";
import { JudgeProgramSchema } from "./judge-program.ts";
import { StepLimitsSchema } from "./limits.ts";
import { OutputFilePatternSchema } from "./output-files.ts";

// The job request: the body of POST /run and POST /jobs, and the data of every queued job.
// The API parses it once at the edge; the worker parses job.data with the same schema, because the
// queue is a trust boundary too (another API version, or a hand-edited job, may have put it there).
// Operator ceilings (config) are checked by the API after parsing, since they are not static.

export { type CompareMode, CompareModeSchema } from "./compare.ts";
export { base64Pattern, filePathPattern, type JobFile, JobFileSchema } from "./job-file.ts";

export const JobTestSchema = z
  .object({
    stdin: z.string().default(""),
    expectedOutput: z.string(),
    /** This test's limits; each overrides the job's (and is checked against the same ceilings). */
    limits: StepLimitsSchema.optional(),
    /** This test's built-in checker, instead of the job's `compare`. */
    compare: CompareSchema.optional(),
    /** Input files placed read-only in this test's own copy of the work dir (USACO's input.txt). */
    files: z.array(JobFileSchema).min(1).max(64).optional(),
    /** Judge this file the program writes instead of its stdout (overrides the job's). */
    compareFile: FilePathSchema.optional(),
  })
  .strict()
  .superRefine((test, ctx) => refineUniquePaths(test.files, ctx));

/** Per-run limits a request may set; each is checked against the operator's ceiling by the API. */
export const RequestLimitsSchema = StepLimitsSchema;

const jobRequestFields = {
  language: z.string().min(1).max(64),
  source: z.string().optional(),
  files: z.array(JobFileSchema).min(1).max(64).optional(),
  /** Used when there are no tests. */
  stdin: z.string().default(""),
  args: z.array(z.string().max(4096)).max(64).default([]),
  tests: z.array(JobTestSchema).min(1).optional(),
  compare: CompareSchema.default("trim"),
  limits: RequestLimitsSchema.default({}),
  /** A checker program that judges each test instead of `compare` (contract/judge-program.ts). */
  checker: JudgeProgramSchema.optional(),
  /** An interactor that talks to the program through its stdin/stdout and decides each test. */
  interactor: JudgeProgramSchema.optional(),
  /** Judge this file each test's run writes instead of its stdout (USACO's output.txt). */
  compareFile: FilePathSchema.optional(),
  /** Files to read back after each run (paths or globs), returned in the run's `outputFiles`. */
  outputFiles: z.array(OutputFilePatternSchema).min(1).max(16).optional(),
  /** Subtasks: tests grouped with points; the result carries the score (contract/groups.ts). */
  groups: z.array(TestGroupSchema).min(1).max(100).optional(),
};

function refineJobRequest(
  req: { source?: string | undefined; files?: JobFile[] | undefined },
  ctx: z.RefinementCtx,
): void {
  refineSourceOrFiles(req, ctx);
}

/** What runs: the data the worker parses from every queued job. */
export const JobRequestSchema = z.object(jobRequestFields).strict().superRefine(refineJobRequest);

/**
 * A callback URL: absolute http(s), no credentials in it (they would end up in logs and in the
 * queue). Whether its host may be reached is decided later by the SSRF policy, which needs DNS.
 */
export const CallbackUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((raw) => {
    // zod runs refinements even after .url() failed, so the raw string may not parse at all:
    // `new URL("python")` threw here and the request answered 500 (found by the request fuzzer).
    const url = URL.canParse(raw) ? new URL(raw) : null;
    return (
      url !== null &&
      (url.protocol === "http:" || url.protocol === "https:") &&
      !url.username &&
      !url.password
    );
  }, "must be an http or https URL without credentials");

/** The body of POST /run and POST /jobs: a job request plus how to hear about its end. */
export const JobSubmissionSchema = z
  .object({ ...jobRequestFields, callbackUrl: CallbackUrlSchema.optional() })
  .strict()
  .superRefine(refineJobRequest);

export type JobTest = z.infer<typeof JobTestSchema>;
export type RequestLimits = z.infer<typeof RequestLimitsSchema>;
export type JobRequest = z.infer<typeof JobRequestSchema>;
export type JobSubmission = z.infer<typeof JobSubmissionSchema>;
/** What a client may send (defaults not yet applied). */
export type JobRequestInput = z.input<typeof JobRequestSchema>;
