import { z } from "zod";
import { type ErrorCode, errorRegistry } from "./errors.ts";
import { JobStatusSchema } from "./job-result.ts";

// The small answers of our own HTTP API that have no other home in the contract: acknowledgements
// of submissions and cancels, probes, and the error body. The OpenAPI document
// (api/openapi-document.ts) and the typed client (client/) both take them from here, so the
// routes, the document and the client name each shape once.

const errorCodes = Object.keys(errorRegistry) as [ErrorCode, ...ErrorCode[]];

/** Every 4xx/5xx of our own API: a stable `code` from contract/errors.ts, a message naming the field. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    /** Validation errors: `[{field, message}]`; others: an object naming the field, or absent. */
    details: z.unknown().optional(),
  }),
});

/** POST /run answers 202 with this when the job is still queued or running after `waitMs`. */
export const RunPendingSchema = z.object({
  id: z.string(),
  status: JobStatusSchema.extract(["queued", "running"]),
});

/** POST /jobs: 202, and `Location: /jobs/{id}`. */
export const JobAcceptedSchema = z.object({ id: z.string() });

/** POST /batches: 202, and `Location: /batches/{id}`. */
export const BatchAcceptedSchema = z.object({ id: z.string(), total: z.number().int() });

/** DELETE /batches/:id: how many jobs of the batch were still unfinished and are now cancelled. */
export const BatchCancelledSchema = z.object({ id: z.string(), cancelled: z.number().int() });

/** GET /healthz. */
export const HealthSchema = z.object({ status: z.literal("ok") });

/** GET /readyz (200 when ready; 503 with the error body and these checks as `details` otherwise). */
export const ReadinessSchema = z.object({
  status: z.literal("ready"),
  checks: z.object({ redis: z.boolean(), workers: z.number().int(), sandboxSelfCheck: z.boolean() }),
});

export type ErrorBodyShape = z.infer<typeof ErrorBodySchema>;
export type RunPending = z.infer<typeof RunPendingSchema>;
export type JobAccepted = z.infer<typeof JobAcceptedSchema>;
export type BatchAccepted = z.infer<typeof BatchAcceptedSchema>;
export type BatchCancelled = z.infer<typeof BatchCancelledSchema>;
export type Health = z.infer<typeof HealthSchema>;
export type Readiness = z.infer<typeof ReadinessSchema>;
