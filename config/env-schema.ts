import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { DEFAULT_UID_BASE, workerUidBase } from "../contract/sandbox-identity.ts";
import { DEFAULT_IMAGES_ROOT, RECIPES_DIR } from "../rootfs-recipes/lib/image-paths.ts";
import { commaList, flag, MiB, positive, variable, whole } from "./env-variables.ts";
import { parseLanguageImages } from "./language-images.ts";

// Every environment variable cellblock reads, once, grouped by the part of the service that uses
// it. Each variable carries its default and a one-line description here, and nowhere else: the
// README's configuration table is generated from these groups (`npm run docs:config`) and a test
// fails when the two differ. Inside a group a value keeps its variable's name, so grepping a
// variable finds every place that uses it; a group may add values derived from its variables.

/** Rootless workers (uid ≠ 0) get a work root of their own: the root one may exist and be root's. */
function defaultWorkRoot(): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? "/dev/shm/cellblock-work" : `/dev/shm/cellblock-work-${uid}`;
}

const queueVariables = z.object({
  REDIS_URL: variable(
    z.string().url().optional(),
    "unset: `npm start` runs its own redis-server; required by `npm run api` / `npm run worker`. `redis://:password@host:port`, `rediss://` for TLS (see Reliability → Redis)",
  ),
  REDIS_TLS_CA_FILE: variable(
    z.string().min(1).optional(),
    "PEM CA(s) that sign the Redis server's certificate (`rediss://` only); unset = the system's CAs",
  ),
  REDIS_TLS_CERT_FILE: variable(
    z.string().min(1).optional(),
    "PEM client certificate for a Redis with `tls-auth-clients yes` (with `REDIS_TLS_KEY_FILE`)",
  ),
  REDIS_TLS_KEY_FILE: variable(z.string().min(1).optional(), "PEM key of `REDIS_TLS_CERT_FILE`"),
  QUEUE_PREFIX: variable(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default("cellblock"),
    "Redis key prefix (several deployments can share one Redis)",
  ),
  RESULT_TTL_S: variable(
    positive(24 * 3600),
    "how long results, idempotency keys and cancel marks are kept (seconds)",
  ),
  JOB_ATTEMPTS: variable(
    positive(3),
    "attempts for jobs whose sandbox failed to set up (`internal_error`); other outcomes never retry",
  ),
  JOB_BACKOFF_MS: variable(positive(1000), "first retry delay of such jobs (doubles each time)"),
  HEARTBEAT_INTERVAL_MS: variable(
    positive(5000),
    "worker heartbeat for `/readyz`, `/workers`, `/metrics` (a worker is stale after 3 intervals)",
  ),
});

const apiVariables = z.object({
  HOST: variable(
    z.string().default("127.0.0.1"),
    "API address; a non-loopback `HOST` is refused unless API keys exist",
  ),
  PORT: variable(whole(8080), "API port (0 = any free port)"),
  API_KEYS: variable(
    commaList,
    "comma-separated static keys (besides `npm run keys`); with any key, every route except `/healthz`, `/readyz`, `/metrics`, the pages (`/`, `/status`, `/assets/`) and the API description (`/openapi.json`, `/docs`) needs one",
  ),
  ADMIN_API_KEY: variable(
    z.string().min(16).optional(),
    "key of `/admin/queues` (bull-board, ≥ 16 characters); unset = 403",
  ),
  KEY_DEFAULT_REQUESTS_PER_MINUTE: variable(
    whole(600),
    "requests per minute of `API_KEYS` keys, and the default of `keys create` (0 = no limit)",
  ),
  KEY_DEFAULT_MAX_RUNNING_JOBS: variable(
    whole(0),
    "jobs running at once per `API_KEYS` key, and the default of `keys create` (0 = no limit)",
  ),
  KEY_DEFAULT_MAX_QUEUED_JOBS: variable(
    whole(10_000),
    "jobs queued per `API_KEYS` key, and the default of `keys create` (0 = no limit)",
  ),
  QUOTA_RETRY_AFTER_S: variable(positive(5), "`Retry-After` of a queued-jobs quota 429 (seconds)"),
  BODY_LIMIT_BYTES: variable(positive(MiB), "larger request bodies get 413"),
  BATCH_BODY_LIMIT_BYTES: variable(
    positive(32 * MiB),
    "body limit of `POST /batches` (a batch of sources is larger than one job)",
  ),
  RUN_WAIT_DEFAULT_MS: variable(whole(30_000), "how long `POST /run` waits without `?waitMs=`"),
  RUN_WAIT_MAX_MS: variable(whole(120_000), "largest `?waitMs=` of `POST /run`"),
  MAX_QUEUED_JOBS: variable(
    positive(100_000),
    "waiting jobs (all keys) above which submissions get 503 + `Retry-After`",
  ),
  QUEUE_FULL_RETRY_AFTER_S: variable(positive(5), "`Retry-After` of a queue-full 503 (seconds)"),
  MAX_BATCH_JOBS: variable(positive(1000), "job requests per `POST /batches`"),
  MAX_TESTS: variable(positive(100), "tests per job"),
  STATUS_SAMPLE_INTERVAL_MS: variable(
    positive(5000),
    "how often an API process samples queue depth, waits and verdicts for `/status` (15 minutes are kept)",
  ),
  // The HTTP server's own limits against slow and idle clients (api/http-server-limits.ts).
  HTTP_HEADERS_TIMEOUT_MS: variable(
    positive(10_000),
    "a client must send a request's headers within this long of starting it (else 408 and close)",
  ),
  HTTP_REQUEST_TIMEOUT_MS: variable(
    positive(60_000),
    "a client must send a whole request, body included, within this long (else 408 and close)",
  ),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: variable(
    positive(65_000),
    "an idle keep-alive connection is closed after this long (longer than common proxies' 60 s)",
  ),
  HTTP_MAX_CONNECTIONS: variable(
    whole(2048),
    "open connections per API process; more are closed at once (0 = no limit)",
  ),
  HTTP_MAX_HEADER_BYTES: variable(positive(16 * 1024), "request line and headers together; larger gets 431"),
  LIVE_STREAMS_PER_KEY: variable(
    positive(8),
    "event streams (SSE, `/ws`, `/api/v2/connect`) open at once per API key, per API process; more get 429",
  ),
  LIVE_MESSAGE_BYTES: variable(positive(65_536), "largest WebSocket message a live client may send"),
  LIVE_INIT_TIMEOUT_MS: variable(positive(5000), "a `/ws` socket that sends no `init` within this is closed"),
  LIVE_IDLE_TIMEOUT_MS: variable(
    positive(300_000),
    "a live socket with no message either way for this long is closed (the job's own wall limit still applies)",
  ),
  STREAM_DRAIN_TIMEOUT_MS: variable(
    positive(30_000),
    "an event stream (SSE, `/ws`, `/api/v2/connect`) whose client takes none of a waiting message for this long is closed, giving its place back",
  ),
  LIVE_PENDING_INPUT_ENTRIES: variable(
    positive(64),
    "stdin messages a live job may have waiting in Redis; beyond it the API stops reading the socket",
  ),
});

const limitVariables = z.object({
  MAX_CPU_TIME_MS: variable(positive(10_000), "ceiling of a request's `limits.cpuTimeMs`"),
  MAX_WALL_TIME_MS: variable(positive(30_000), "ceiling of a request's `limits.wallTimeMs`"),
  MAX_MEMORY_BYTES: variable(positive(1024 * MiB), "ceiling of a request's `limits.memoryBytes`"),
  MAX_PIDS: variable(positive(256), "ceiling of a request's `limits.pids`"),
  MAX_OUTPUT_BYTES: variable(positive(4 * MiB), "ceiling of a request's `limits.outputBytes`"),
  DEFAULT_CPU_TIME_MS: variable(
    positive(2000),
    "run-step CPU time when neither request nor language sets one",
  ),
  DEFAULT_WALL_TIME_MS: variable(
    positive(5000),
    "run-step wall time when neither request nor language sets one",
  ),
  DEFAULT_MEMORY_BYTES: variable(
    positive(256 * MiB),
    "run-step memory when neither request nor language sets it",
  ),
  DEFAULT_PIDS: variable(positive(64), "run-step tasks when neither request nor language sets them"),
  DEFAULT_OUTPUT_BYTES: variable(
    positive(64 * 1024),
    "run-step output per stream when neither request nor language sets it",
  ),
  COMPILE_CPU_TIME_MS: variable(positive(10_000), "compile-step CPU time when the language sets none"),
  COMPILE_WALL_TIME_MS: variable(positive(20_000), "compile-step wall time when the language sets none"),
  COMPILE_MEMORY_BYTES: variable(positive(512 * MiB), "compile-step memory when the language sets none"),
  COMPILE_PIDS: variable(positive(32), "compile-step tasks when the language sets none"),
  COMPILE_OUTPUT_BYTES: variable(
    positive(64 * 1024),
    "compile-step output per stream when the language sets none",
  ),
});

const workerVariables = z.object({
  WORKER_SLOTS: variable(
    positive(os.cpus().length),
    "concurrent jobs per worker process = sandbox slots",
    "number of CPUs",
  ),
  WORK_ROOT: variable(
    z.string().default(defaultWorkRoot()),
    "per-job work dirs; tmpfs, so files a job writes count against its memory limit",
    "`/dev/shm/cellblock-work` (rootless: `/dev/shm/cellblock-work-<uid>`)",
  ),
  SHUTDOWN_DEADLINE_MS: variable(
    positive(25_000),
    "on SIGTERM, running jobs get this long, then are stopped and re-queued",
  ),
  DISPATCH_RETRY_DELAY_MS: variable(
    positive(200),
    "delay of a job a worker hands back (language missing there, key at its running-jobs limit)",
  ),
  // Recovery from dead workers: BullMQ's job lock and stalled-job check.
  LOCK_DURATION_MS: variable(
    positive(30_000),
    "a worker that stops renewing its job lock this long is considered dead; its job is re-queued",
  ),
  STALLED_INTERVAL_MS: variable(positive(15_000), "how often workers look for jobs of dead workers"),
  MAX_STALLED_COUNT: variable(positive(2), "recoveries from dead workers before a job fails visibly"),
});

const sandboxVariables = z.object({
  SANDBOX_UID_BASE: variable(
    positive(DEFAULT_UID_BASE),
    "first host uid of slot 0; each slot owns 65536 ids (contract/sandbox-identity.ts)",
  ),
  SANDBOX_SLOT_OFFSET: variable(
    whole(0),
    "shifts this worker's uid range by that many slots (several workers per host: worker k uses k × `WORKER_SLOTS`)",
  ),
  SANDBOX_LOCK_DIR: variable(
    z.string().optional(),
    "host-wide dir of the uid-range locks: each worker claims its slots' uid blocks there, moving past blocks another live worker holds",
    "`/run/cellblock` (rootless: `<WORK_ROOT>/.locks`)",
  ),
  SANDBOX_ID_MAP: variable(
    z.enum(["subid", "single"]).default("subid"),
    "rootless workers only (uid ≠ 0): `subid` maps each slot's ids out of /etc/subuid, `single` maps the worker's own id (docs/CGROUP-V2.md); the service worker runs `single` only",
  ),
  SANDBOX_CGROUP_PARENT: variable(
    z.string().optional(),
    "parent cgroup of all steps; nothing outside it is touched",
    "`cellblock` (the sandbox's)",
  ),
  CELLBLOCK_CGROUP_ROOT: variable(
    z.string().optional(),
    "cgroup v2 only: the (delegated) group our parent group is created in",
    "the cgroup2 mount",
  ),
  CELLBLOCK_TRACE: variable(flag, "1: one JSON timing line per sandbox run on stderr", "off"),
  SANDBOX_FILE_SIZE_BYTES: variable(positive(64 * MiB), "RLIMIT_FSIZE of every step"),
  SANDBOX_OPEN_FILES: variable(positive(256), "RLIMIT_NOFILE of every step"),
  SANDBOX_STACK_BYTES: variable(
    positive(64 * MiB),
    "RLIMIT_STACK of every step (capped at its memory limit)",
  ),
  SANDBOX_TMPFS_BYTES: variable(positive(64 * MiB), "size of `/tmp` and `/dev/shm` inside a step"),
  SANDBOX_CPU_QUOTA_PERCENT: variable(whole(0), "CPU bandwidth cap per step, % of one core (0 = none)"),
  // Disk I/O per step, on the disks behind the step's root and binds (native/io-limits.ts). The
  // defaults leave a cold runtime start (a JVM's ~150 MB, a Python's few hundred imports) well
  // under a second or two, and stop one step from reading a disk flat out (issue 9 item 5).
  SANDBOX_IO_READ_BPS: variable(
    whole(128 * MiB),
    "disk read bytes/s per step (v1 blkio.throttle, v2 io.max; 0 = unlimited)",
    "128 MiB/s",
  ),
  SANDBOX_IO_WRITE_BPS: variable(
    whole(64 * MiB),
    "disk write bytes/s per step (v1 holds only direct writes; 0 = unlimited)",
    "64 MiB/s",
  ),
  SANDBOX_IO_READ_IOPS: variable(whole(4000), "disk read operations/s per step (0 = unlimited)"),
  SANDBOX_IO_WRITE_IOPS: variable(whole(2000), "disk write operations/s per step (0 = unlimited)"),
});

const imageVariables = z.object({
  RECIPES_DIR: variable(
    z.string().default(RECIPES_DIR),
    "where language recipes are read",
    "`rootfs-recipes/` of this checkout",
  ),
  CELLBLOCK_IMAGES: variable(
    z
      .string()
      .default(DEFAULT_IMAGES_ROOT)
      .transform((dir) => path.resolve(dir)),
    "root of the built language images",
  ),
  CELLBLOCK_LANGUAGE_IMAGES: variable(
    z
      .string()
      .default("")
      .transform((text, ctx) => {
        try {
          return parseLanguageImages(text);
        } catch (error) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
          return z.NEVER;
        }
      }),
    "`lang:recipe,…` or `all`: run host-layout languages from built images",
  ),
  CELLBLOCK_VERIFY_SLOT: variable(
    whole(60),
    "sandbox slot `images:build` / `images:verify` run their checks in (high, away from a local worker's)",
  ),
});

const webhookVariables = z.object({
  WEBHOOK_ATTEMPTS: variable(positive(5), "delivery attempts per webhook"),
  WEBHOOK_BACKOFF_MS: variable(positive(2000), "first delay between attempts (doubles each time)"),
  WEBHOOK_TIMEOUT_MS: variable(positive(5000), "one whole attempt: DNS, connect, request, response"),
  WEBHOOK_MAX_RESPONSE_BYTES: variable(
    positive(64 * 1024),
    "bytes of the receiver's answer read before the connection is cut",
  ),
  WEBHOOK_CONCURRENCY: variable(positive(8), "deliveries at once per API process"),
  WEBHOOK_ALLOW_CIDRS: variable(
    z.string().default(""),
    "CIDRs allowed even inside the default-denied ranges, e.g. `10.1.2.0/24,127.0.0.1/32`",
  ),
  WEBHOOK_DENY_CIDRS: variable(
    z.string().default(""),
    "CIDRs denied on top of the defaults (loopback, private, link-local, CGNAT, multicast, …)",
  ),
  WEBHOOK_SECRET: variable(
    z.string().min(16).optional(),
    "signs webhooks of keyless (loopback) requests; unset = such callbacks are refused",
  ),
});

const loggingVariables = z.object({
  LOG_LEVEL: variable(
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    "pino level; sources, stdin, keys and secrets are never logged",
  ),
});

/** The operator's limits as the contract's limit resolution takes them. */
function operatorLimits(v: z.infer<typeof limitVariables>) {
  const ceilings: StepLimitValues = {
    cpuTimeMs: v.MAX_CPU_TIME_MS,
    wallTimeMs: v.MAX_WALL_TIME_MS,
    memoryBytes: v.MAX_MEMORY_BYTES,
    pids: v.MAX_PIDS,
    outputBytes: v.MAX_OUTPUT_BYTES,
  };
  const run: StepLimitValues = {
    cpuTimeMs: v.DEFAULT_CPU_TIME_MS,
    wallTimeMs: v.DEFAULT_WALL_TIME_MS,
    memoryBytes: v.DEFAULT_MEMORY_BYTES,
    pids: v.DEFAULT_PIDS,
    outputBytes: v.DEFAULT_OUTPUT_BYTES,
  };
  const compile: StepLimitValues = {
    cpuTimeMs: v.COMPILE_CPU_TIME_MS,
    wallTimeMs: v.COMPILE_WALL_TIME_MS,
    memoryBytes: v.COMPILE_MEMORY_BYTES,
    pids: v.COMPILE_PIDS,
    outputBytes: v.COMPILE_OUTPUT_BYTES,
  };
  return { ceilings, run, compile };
}

export interface EnvGroup {
  /** Who reads the group, for the README. */
  title: string;
  variables: z.AnyZodObject;
  schema: z.ZodTypeAny;
}

const group = <V extends z.AnyZodObject, S extends z.ZodTypeAny>(title: string, variables: V, schema: S) => ({
  title,
  variables,
  schema,
});

/** The groups in README order; each part of the service is handed only the groups it uses. */
export const envGroups = {
  queue: group("Queue and Redis — API and workers", queueVariables, queueVariables),
  api: group("HTTP API", apiVariables, apiVariables),
  limits: group(
    "Limits — operator ceilings (API) and defaults (API listing, workers)",
    limitVariables,
    limitVariables.transform(operatorLimits),
  ),
  worker: group("Workers", workerVariables, workerVariables),
  sandbox: group(
    "Sandbox — workers and the images CLI",
    sandboxVariables,
    sandboxVariables.transform((v) => ({
      ...v,
      /** First host id of this worker's slot 0: SANDBOX_UID_BASE shifted by SANDBOX_SLOT_OFFSET slots. */
      uidBase: workerUidBase(v.SANDBOX_UID_BASE, v.SANDBOX_SLOT_OFFSET),
    })),
  ),
  images: group("Language images — API (recipes), workers, the images CLI", imageVariables, imageVariables),
  webhooks: group("Webhooks — API", webhookVariables, webhookVariables),
  logging: group("Logging — every process", loggingVariables, loggingVariables),
} as const satisfies Record<string, EnvGroup>;
