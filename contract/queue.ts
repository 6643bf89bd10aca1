import { z } from "zod";
import { JobRequestSchema } from "./job-request.ts";
import { LanguageLimitsSchema } from "./language.ts";

// Names shared by the API and the workers through Redis. Everything lives under one prefix so
// that several deployments can share a Redis by setting QUEUE_PREFIX.

export const QUEUE_NAME = "jobs";
/**
 * Flow parents: one per batch and one per job with a callbackUrl. BullMQ moves a parent here to
 * "waiting" in the same script that finishes its last child, so "everything finished" is never
 * missed, and the parent's own attempts/backoff are the webhook retries.
 */
export const COMPLETIONS_QUEUE_NAME = "completions";

/**
 * BullMQ priorities: lower runs first. Two bands, interactive (POST /run) always before batch
 * (POST /jobs, POST /batches); inside a band a job's priority is the band's base plus its position
 * in its own API key's backlog, so keys take turns instead of one key's 10,000 jobs going first
 * (see api/fair-priority.ts).
 */
export const PRIORITY_INTERACTIVE = 1;
export const PRIORITY_BATCH = 10_000;
/** BullMQ's largest priority (2^21 - 1). */
export const PRIORITY_MAX = 2_097_151;

export type PriorityBand = "interactive" | "batch";

/** What the API enqueues: the request plus who sent it and the limits the worker enforces. */
export const QueuedJobSchema = z.object({
  request: JobRequestSchema,
  keyId: z.string(),
  band: z.enum(["interactive", "batch"]),
  /** Most jobs of this key that may run at once, fleet-wide (0 = no limit). */
  maxRunningJobs: z.number().int().nonnegative(),
  batchId: z.string().optional(),
});

export type QueuedJob = z.infer<typeof QueuedJobSchema>;

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
  /** Set of a key's job ids waiting in one priority band: the fair-share position and the queued quota. */
  queuedByKey: (keyId: string, band: PriorityBand) => `${prefix}:queued:${keyId}:${band}`,
  /** Sorted set of a key's running job ids, scored by lease expiry (ms): the concurrent-jobs limit. */
  runningByKey: (keyId: string) => `${prefix}:running:${keyId}`,
  /** Fixed-window request counter of a key for one minute. */
  rateWindow: (keyId: string, windowStartMs: number) => `${prefix}:rate:${keyId}:${windowStartMs}`,
  /** Hash: sha256(key) hex → key id (records: `<prefix>:api-key-records`, see api/api-keys.ts). */
  apiKeys: `${prefix}:api-keys`,
  /** Hash: batch fields (BatchRecord). */
  batch: (batchId: string) => `${prefix}:batch:${batchId}`,
  /** List of a batch's job ids in request order. */
  batchJobs: (batchId: string) => `${prefix}:batch:${batchId}:jobs`,
  /** List of webhook delivery attempts (JSON) of a job or batch. */
  deliveries: (ownerId: string) => `${prefix}:deliveries:${ownerId}`,
  /** Hash of counters and histogram buckets shared by all processes (see contract/shared-metrics.ts). */
  metrics: `${prefix}:metrics`,
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

/** What a worker writes on each heartbeat; GET /workers lists these. */
export interface WorkerHeartbeat {
  id: string;
  pid: number;
  host: string;
  slots: number;
  /** Slots running a job at the last heartbeat. */
  busySlots: number;
  languages: string[];
  /** Root filesystems the worker's languages use ("host" or an image path). */
  images: string[];
  selfCheck: { ok: boolean; detail: string };
  startedAt: string;
  seenAt?: string;
}
