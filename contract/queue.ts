import { z } from "zod";
import { JobRequestSchema } from "./job-request.ts";

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
  /** A live job (/ws): its run step takes stdin and signals from Redis (contract/job-events.ts). */
  live: z.boolean().optional(),
});

export type QueuedJob = z.infer<typeof QueuedJobSchema>;

/** The fields of a queued job that say whose it is, parsed without the (possibly large) request. */
export const QueuedJobOwnerSchema = QueuedJobSchema.pick({ keyId: true, band: true, batchId: true });

export type QueuedJobOwner = z.infer<typeof QueuedJobOwnerSchema>;

/**
 * The data of a flow parent in the completions queue: `job-<jobId>` (a job with a callbackUrl) or
 * `batch-<batchId>` (every batch); it says whom to tell when its children have finished.
 */
export const CompletionDataSchema = z.object({
  kind: z.enum(["job", "batch"]),
  /** Job id or batch id. */
  ownerId: z.string(),
  keyId: z.string(),
  url: z.string().optional(),
});

export type CompletionData = z.infer<typeof CompletionDataSchema>;

export const redisKeys = (prefix: string) => ({
  /** Pub/sub channel: a job id published here is cancelled by whichever worker runs it. */
  cancelChannel: `${prefix}:cancel`,
  /** Marker set by DELETE /jobs/:id; wins over any state but completed (contract/job-status.ts). */
  cancelled: (jobId: string) => `${prefix}:cancelled:${jobId}`,
  /** Idempotency-Key → "<jobId> <body hash>". */
  idempotency: (key: string) => `${prefix}:idempotency:${key}`,
  /** Sorted set: worker id → last heartbeat (ms since epoch). */
  workers: `${prefix}:workers`,
  /** Hash: worker id → its heartbeat details (JSON). */
  workerInfo: `${prefix}:worker-info`,
  /** The last worker that refused to start because its sandbox self-check failed (JSON SandboxRefusal; expires). */
  sandboxRefusal: `${prefix}:sandbox-refusal`,
  /** Languages as resolved by the most recently started worker (JSON list of LanguageInfo, contract/language-info.ts). */
  languages: `${prefix}:languages`,
  /** Set of a key's job ids waiting in one priority band: the fair-share position and the queued quota. */
  queuedByKey: (keyId: string, band: PriorityBand) => `${prefix}:queued:${keyId}:${band}`,
  /** Sorted set of a key's running job ids, scored by lease expiry (ms): the concurrent-jobs limit. */
  runningByKey: (keyId: string) => `${prefix}:running:${keyId}`,
  /** Fixed-window request counter of a key for one minute. */
  rateWindow: (keyId: string, windowStartMs: number) => `${prefix}:rate:${keyId}:${windowStartMs}`,
  /** Hash: sha256(key) hex → key id. */
  apiKeys: `${prefix}:api-keys`,
  /** Hash: key id → StoredApiKey JSON (contract/api-key.ts). */
  apiKeyRecords: `${prefix}:api-key-records`,
  /** Hash: batch fields (BatchRecord, contract/batch.ts). */
  batch: (batchId: string) => `${prefix}:batch:${batchId}`,
  /** List of a batch's job ids in request order. */
  batchJobs: (batchId: string) => `${prefix}:batch:${batchId}:jobs`,
  /** List of webhook delivery attempts (JSON) of a job or batch. */
  deliveries: (ownerId: string) => `${prefix}:deliveries:${ownerId}`,
  /** Hash of counters and histogram buckets shared by all processes (see contract/shared-metrics.ts). */
  metrics: `${prefix}:metrics`,
  /** One status sample per interval (contract/status.ts), written NX and expiring after the history window. */
  statusSample: (bucketStartMs: number) => `${prefix}:status-sample:${bucketStartMs}`,
  /** List of the latest sandbox setup failures (SetupFailureRecord JSON), newest first. */
  setupFailures: `${prefix}:setup-failures`,
});

/** What a worker writes on each heartbeat; GET /workers lists these. */
export const WorkerHeartbeatSchema = z.object({
  id: z.string(),
  pid: z.number().int(),
  host: z.string(),
  slots: z.number().int(),
  /** Slots running a job at the last heartbeat. */
  busySlots: z.number().int(),
  languages: z.array(z.string()),
  /** Root filesystems the worker's languages use ("host" or an image path). */
  images: z.array(z.string()),
  selfCheck: z.object({ ok: z.boolean(), detail: z.string() }),
  startedAt: z.string(),
  seenAt: z.string().optional(),
});

export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeatSchema>;

/** Why the last worker refused to start: its self-check's missing prerequisites, for /readyz. */
export const SandboxRefusalSchema = z.object({ host: z.string(), at: z.string(), detail: z.string() });
export type SandboxRefusal = z.infer<typeof SandboxRefusalSchema>;
