import { z } from "zod";
import { LanguageLimitsSchema } from "./language.ts";

// Names shared by the API and the workers through Redis. Everything lives under one prefix so
// that several deployments can share a Redis by setting QUEUE_PREFIX.

export const QUEUE_NAME = "jobs";

/** BullMQ priorities: lower runs first. Interactive POST /run beats batch POST /jobs. */
export const PRIORITY_INTERACTIVE = 1;
export const PRIORITY_BATCH = 10;

export const redisKeys = (prefix: string) => ({
  /** Pub/sub channel: a job id published here is cancelled by whichever worker runs it. */
  cancelChannel: `${prefix}:cancel`,
  /** Marker set by DELETE /jobs/:id; wins over any later state of the job. */
  cancelled: (jobId: string) => `${prefix}:cancelled:${jobId}`,
  /** Idempotency-Key → "<jobId> <body hash>". */
  idempotency: (key: string) => `${prefix}:idempotency:${key}`,
  /** Sorted set: worker id → last heartbeat (ms since epoch). */
  workers: `${prefix}:workers`,
  /** Hash: worker id → its heartbeat details (JSON). */
  workerInfo: `${prefix}:worker-info`,
  /** Languages as resolved by the most recently started worker (JSON list of LanguageInfo). */
  languages: `${prefix}:languages`,
});

/** A language as GET /languages shows it. */
export const LanguageInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Read from the image at worker start-up by running the language's versionCommand; null if unknown. */
  version: z.string().nullable(),
  compiled: z.boolean(),
  sourceFile: z.string(),
  limits: LanguageLimitsSchema.required(),
  compileLimits: LanguageLimitsSchema.required().nullable(),
});

export type LanguageInfo = z.infer<typeof LanguageInfoSchema>;

/** What a worker writes on each heartbeat. */
export interface WorkerHeartbeat {
  id: string;
  pid: number;
  host: string;
  slots: number;
  selfCheck: { ok: boolean; detail: string };
  startedAt: string;
}
