import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

// All configuration: env → zod → frozen object, parsed once at start-up. Every default and unit is
// declared here and documented in the README's configuration table. Nothing else reads process.env.

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const MiB = 1024 * 1024;

const EnvSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: int(8080),
  /** Unset: `npm start` runs its own redis-server; `npm run api|worker` require it. */
  REDIS_URL: z.string().url().optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("cellblock"),
  /**
   * Comma-separated static keys (each gets the KEY_DEFAULT_* limits). Keys can also be created in
   * Redis with `npm run keys -- create`; with either kind present, every route but /healthz,
   * /readyz and /metrics needs a key.
   */
  API_KEYS: z.string().default(""),
  /** Guards /admin/queues (bull-board); unset = the admin view answers 403. */
  ADMIN_API_KEY: z.string().min(16).optional(),
  // Limits of API_KEYS keys, and the defaults of `npm run keys -- create` (0 = no limit).
  KEY_DEFAULT_REQUESTS_PER_MINUTE: int(600),
  KEY_DEFAULT_MAX_RUNNING_JOBS: int(0),
  KEY_DEFAULT_MAX_QUEUED_JOBS: int(10_000),
  /** Retry-After (seconds) of 429 E_QUOTA_EXCEEDED for the queued-jobs quota. */
  QUOTA_RETRY_AFTER_S: positive(5),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  BODY_LIMIT_BYTES: positive(MiB),
  RUN_WAIT_DEFAULT_MS: int(30_000),
  RUN_WAIT_MAX_MS: int(120_000),
  /** Jobs waiting (not running), all keys together, above which submissions get 503 + Retry-After. */
  MAX_QUEUED_JOBS: positive(100_000),
  /** Job requests per POST /batches. */
  MAX_BATCH_JOBS: positive(1000),
  /** Body limit of POST /batches only (a batch of sources is larger than one job). */
  BATCH_BODY_LIMIT_BYTES: positive(32 * MiB),
  QUEUE_FULL_RETRY_AFTER_S: positive(5),
  /** How long results (and idempotency keys, cancel markers) are kept. */
  RESULT_TTL_S: positive(24 * 3600),
  MAX_TESTS: positive(100),

  // Operator ceilings: a request asking for more is rejected with 400 E_LIMIT_ABOVE_CEILING.
  MAX_CPU_TIME_MS: positive(10_000),
  MAX_WALL_TIME_MS: positive(30_000),
  MAX_MEMORY_BYTES: positive(1024 * MiB),
  MAX_PIDS: positive(256),
  MAX_OUTPUT_BYTES: positive(4 * MiB),

  // Run-step defaults, used when neither the request nor the language sets a limit.
  DEFAULT_CPU_TIME_MS: positive(2000),
  DEFAULT_WALL_TIME_MS: positive(5000),
  DEFAULT_MEMORY_BYTES: positive(256 * MiB),
  DEFAULT_PIDS: positive(64),
  DEFAULT_OUTPUT_BYTES: positive(64 * 1024),

  // Compile-step defaults, used when the language sets no compileLimits.
  COMPILE_CPU_TIME_MS: positive(10_000),
  COMPILE_WALL_TIME_MS: positive(20_000),
  COMPILE_MEMORY_BYTES: positive(512 * MiB),
  COMPILE_PIDS: positive(32),
  COMPILE_OUTPUT_BYTES: positive(64 * 1024),

  // Sandbox limits that requests cannot change.
  SANDBOX_FILE_SIZE_BYTES: positive(64 * MiB),
  SANDBOX_OPEN_FILES: positive(256),
  SANDBOX_STACK_BYTES: positive(64 * MiB),
  SANDBOX_TMPFS_BYTES: positive(64 * MiB),
  SANDBOX_CPU_QUOTA_PERCENT: int(0),

  /** Concurrent jobs per worker process = sandbox slots. */
  WORKER_SLOTS: positive(os.cpus().length),
  /** First host uid of this worker's slots; each slot uses 65536 ids. */
  SANDBOX_UID_BASE: positive(200_000),
  /** Shifts uids (and the cgroup name) so several workers on one host never share ids: worker k uses k*WORKER_SLOTS. */
  SANDBOX_SLOT_OFFSET: int(0),
  SANDBOX_CGROUP_PARENT: z.string().optional(),
  /** Per-job work dirs; tmpfs, so files a job writes are charged to its memory cgroup. */
  WORK_ROOT: z.string().default("/dev/shm/cellblock-work"),
  RECIPES_DIR: z.string().default(path.join(projectRoot, "rootfs-recipes")),

  /** Attempts for jobs whose sandbox failed to set up (internal_error); other outcomes never retry. */
  JOB_ATTEMPTS: positive(3),
  JOB_BACKOFF_MS: positive(1000),
  /** A worker that stops renewing its lock for this long is considered dead; its job is re-queued. */
  LOCK_DURATION_MS: positive(30_000),
  STALLED_INTERVAL_MS: positive(15_000),
  /** Times a job may be recovered from a dead worker before it fails visibly. */
  MAX_STALLED_COUNT: positive(2),
  /** On SIGTERM, running jobs get this long to finish; then they are stopped and re-queued. */
  SHUTDOWN_DEADLINE_MS: positive(25_000),
  HEARTBEAT_INTERVAL_MS: positive(5000),
  /**
   * A worker that picks a job it must not run yet (language it lacks, or the key at its running-jobs
   * limit) hands it back delayed by this long, so another worker or a later turn takes it.
   */
  DISPATCH_RETRY_DELAY_MS: positive(200),

  // Webhooks (callbackUrl). Delivery attempts back off exponentially from WEBHOOK_BACKOFF_MS.
  WEBHOOK_ATTEMPTS: positive(5),
  WEBHOOK_BACKOFF_MS: positive(2000),
  /** Whole attempt: DNS, connect, request, response. */
  WEBHOOK_TIMEOUT_MS: positive(5000),
  /** Bytes of the receiver's answer read before the connection is cut. */
  WEBHOOK_MAX_RESPONSE_BYTES: positive(64 * 1024),
  WEBHOOK_CONCURRENCY: positive(8),
  /** CIDRs allowed even inside the default-denied ranges, e.g. "10.1.2.0/24,127.0.0.1/32". */
  WEBHOOK_ALLOW_CIDRS: z.string().default(""),
  /** CIDRs denied on top of the defaults (loopback, private, link-local, CGNAT, multicast, ...). */
  WEBHOOK_DENY_CIDRS: z.string().default(""),
  /** Signs webhooks of requests made without an API key (loopback mode); unset = such callbacks are refused. */
  WEBHOOK_SECRET: z.string().min(16).optional(),
});

export type Config = Readonly<z.infer<typeof EnvSchema>> & {
  readonly apiKeys: readonly string[];
  readonly projectRoot: string;
};

/** Parses the environment; throws an Error listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join("; ")}`);
  }
  const apiKeys = parsed.data.API_KEYS.split(",")
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
  return Object.freeze({ ...parsed.data, apiKeys: Object.freeze(apiKeys), projectRoot });
}

/** The host uid base of this worker process: each worker on a host gets a disjoint range. */
export function sandboxUidBase(config: Config): number {
  return config.SANDBOX_UID_BASE + config.SANDBOX_SLOT_OFFSET * 65536;
}

const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || host.startsWith("127.");
}
