import { z } from "zod";
import { CallbackUrlSchema } from "./job-request.ts";
import { JobViewSchema } from "./job-result.ts";
import { CallbackViewSchema } from "./webhook.ts";

// POST /batches and GET /batches/:id. Each entry of `jobs` is checked with the job schema by the
// API (api/validate-batch.ts), so errors can name `jobs[17].language`; here it is only an array.

export const BatchSubmissionSchema = z
  .object({
    jobs: z.array(z.unknown()).min(1),
    /** POSTed once when every job of the batch has finished (jobs inside carry no callbackUrl). */
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .strict();

export const BatchCountsSchema = z.object({
  queued: z.number().int(),
  running: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
});

export const BatchViewSchema = z.object({
  id: z.string(),
  /** "running" until every job is completed, failed or cancelled; then "finished". */
  status: z.enum(["running", "finished"]),
  total: z.number().int(),
  counts: BatchCountsSchema,
  createdAt: z.string(),
  /** One page of the jobs in request order (`?offset=&limit=`). */
  jobs: z.array(JobViewSchema.extend({ index: z.number().int() })),
  offset: z.number().int(),
  limit: z.number().int(),
  callback: CallbackViewSchema.optional(),
});

/** A batch as stored in its Redis hash (`redisKeys().batch`); hash fields are strings. */
export const BatchRecordSchema = z.object({
  keyId: z.string(),
  createdAt: z.string(),
  total: z.coerce.number().int().nonnegative(),
  callbackUrl: z.string().optional(),
  finishedAt: z.string().optional(),
});

export type BatchRecord = z.infer<typeof BatchRecordSchema>;
export type BatchSubmission = z.infer<typeof BatchSubmissionSchema>;
export type BatchCounts = z.infer<typeof BatchCountsSchema>;
export type BatchView = z.infer<typeof BatchViewSchema>;
