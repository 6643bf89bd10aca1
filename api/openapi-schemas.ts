import { z } from "zod";
import {
  BatchAcceptedSchema,
  BatchCancelledSchema,
  ErrorBodySchema,
  HealthSchema,
  JobAcceptedSchema,
  ReadinessSchema,
  RunPendingSchema,
} from "../contract/api-responses.ts";
import { BatchSubmissionSchema, BatchViewSchema } from "../contract/batch.ts";
import { JobRequestSchema, JobSubmissionSchema } from "../contract/job-request.ts";
import { JobResultSchema, JobViewSchema } from "../contract/job-result.ts";
import { LanguageInfoSchema } from "../contract/language-info.ts";
import { WorkerHeartbeatSchema } from "../contract/queue.ts";
import { StatusViewSchema } from "../contract/status.ts";

// The contract schemas the OpenAPI document shows as components (api/openapi-document.ts), by
// component name. The OpenAPI test validates every example of the document with these.

/** Component name → the contract schema it shows (the OpenAPI test validates examples with these). */
export const documentSchemas = {
  JobSubmission: JobSubmissionSchema,
  JobRequest: JobRequestSchema,
  JobResult: JobResultSchema,
  // POST /run's 200: the result, or the job's view when it failed or was cancelled meanwhile.
  RunAnswer: z.union([JobResultSchema, JobViewSchema]),
  RunPending: RunPendingSchema,
  JobAccepted: JobAcceptedSchema,
  JobView: JobViewSchema,
  // Entries are checked one by one with the job schema (api/validate-batch.ts, errors name
  // `jobs[17].language`); the document shows that schema instead of the contract's `unknown`.
  BatchSubmission: BatchSubmissionSchema.extend({ jobs: z.array(JobRequestSchema).min(1) }),
  BatchAccepted: BatchAcceptedSchema,
  BatchView: BatchViewSchema,
  BatchCancelled: BatchCancelledSchema,
  LanguageInfo: LanguageInfoSchema,
  LanguageList: z.array(LanguageInfoSchema),
  WorkerHeartbeat: WorkerHeartbeatSchema,
  WorkerList: z.array(WorkerHeartbeatSchema),
  StatusView: StatusViewSchema,
  Health: HealthSchema,
  Readiness: ReadinessSchema,
  ErrorBody: ErrorBodySchema,
} as const;

export type DocumentSchemaName = keyof typeof documentSchemas;
