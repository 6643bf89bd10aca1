import { randomUUID } from "node:crypto";
import os from "node:os";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { WorkerConfig } from "../config/load-config.ts";
import { QUEUE_NAME, redisKeys, type SandboxRefusal, type WorkerHeartbeat } from "../contract/queue.ts";
import { connectRedis } from "../redis/redis-connection.ts";
import { SharedMetricsBuffer } from "../redis/shared-metrics-buffer.ts";
import { CancelListener } from "./cancel-listener.ts";
import { DispatchGate } from "./dispatch-gate.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { LanguageImages } from "./language-images.ts";
import { JobProcessor } from "./process-job.ts";
import { type OpenedSandbox, openSandbox } from "./sandbox-host.ts";
import { SlotPool } from "./slot-pool.ts";
import { prepareWorkRoot, sweepWorkRoot, workDirRemovalsSettled } from "./work-dir.ts";
import { WorkerLanguages } from "./worker-languages.ts";

// Theory of operation: a BullMQ Worker with concurrency = sandbox slots. Start-up, in order: the
// sandbox (configured, self-checked: sandbox-host.ts), the work root, the languages this host runs
// (resolved, published, re-resolved on image changes: worker-languages.ts), the cancel listener,
// the job processor (process-job.ts: dispatch gate, slot, run, outcome), the heartbeat. A worker
// killed outright stops renewing its job locks; another worker's stalled check re-queues the jobs.
// Shutdown stops fetching, lets running jobs finish until SHUTDOWN_DEADLINE_MS, then aborts them
// with a retryable error so they run again elsewhere.

export interface StartedWorker {
  id: string;
  close(): Promise<void>;
}

/** What a running worker holds, in start-up order; closed in reverse. */
interface WorkerParts {
  id: string;
  log: Logger;
  sandbox: OpenedSandbox;
  redis: Redis;
  languages: WorkerLanguages;
  cancels: CancelListener;
  metrics: SharedMetricsBuffer;
  slots: SlotPool;
}

export async function startWorker(config: WorkerConfig, logger: Logger): Promise<StartedWorker> {
  if (!config.queue.REDIS_URL) throw new Error("start worker: REDIS_URL is not set");
  // The work root first: a rootless worker keeps its uid-range locks in it (sandbox-host.ts).
  await prepareWorkRoot(config.worker.WORK_ROOT);
  const sandbox = await openSandbox(
    config.sandbox,
    config.worker.WORKER_SLOTS,
    config.worker.WORK_ROOT,
  ).catch(async (error: Error) => {
    await recordSandboxRefusal(config, error.message);
    throw error;
  });
  await sweepWorkRoot(
    config.worker.WORK_ROOT,
    {
      ownBlocks: sandbox.uidClaim.slotBases,
      ownFresh: sandbox.uidClaim.fresh,
      whileUnclaimed: sandbox.whileUnclaimed,
    },
    logger,
  );
  const id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ worker: id });
  const keys = redisKeys(config.queue.QUEUE_PREFIX);
  const redis = connectRedis(config.queue, "start worker");
  redis.on("error", (error) => log.error({ err: error }, "Redis connection error"));
  await redis.del(keys.sandboxRefusal); // a worker with a working sandbox: an older refusal is history
  const images = new LanguageImages(config, sandbox.runSandbox, log);
  const languages = new WorkerLanguages(redis, keys, images, log);
  await languages.start();
  const cancels = await CancelListener.start(redis.duplicate(), keys.cancelChannel, log, async (jobIds) => {
    const marks = await Promise.all(jobIds.map((jobId) => redis.exists(keys.cancelled(jobId))));
    return jobIds.filter((_, index) => marks[index] === 1);
  });
  const metrics = new SharedMetricsBuffer(redis, config.queue.QUEUE_PREFIX, (error) =>
    log.warn({ err: error }, "record metrics failed"),
  );
  const slots = new SlotPool(config.worker.WORKER_SLOTS);
  const parts: WorkerParts = { id, log, sandbox, redis, languages, cancels, metrics, slots };

  const gate = new DispatchGate(
    redis,
    keys,
    { limits: config.limits, lockDurationMs: config.worker.LOCK_DURATION_MS },
    languages.byId,
  );
  const processor = new JobProcessor({
    redis,
    keys,
    settings: config,
    workerId: id,
    runSandbox: sandbox.runSandbox,
    uidBase: sandbox.uidBase,
    gate,
    slots,
    cancels,
    metrics,
    log,
  });
  const worker = await runBullWorker(config, redis, processor, log);
  const heartbeat = startHeartbeat(
    redis,
    keys,
    heartbeatOf(parts, config),
    config.queue.HEARTBEAT_INTERVAL_MS,
    log,
  );
  log.info(
    { slots: config.worker.WORKER_SLOTS, uidBase: sandbox.uidBase, languages: languages.ids() },
    "worker started",
  );

  let closed: Promise<void> | null = null;
  return {
    id,
    close: () => {
      closed ??= (async () => {
        await heartbeat.stop();
        await stopWorker(parts, worker, config.worker.SHUTDOWN_DEADLINE_MS);
      })();
      return closed;
    },
  };
}

async function runBullWorker(config: WorkerConfig, redis: Redis, processor: JobProcessor, log: Logger) {
  const worker = new Worker(QUEUE_NAME, processor.process, {
    connection: redis,
    prefix: config.queue.QUEUE_PREFIX,
    concurrency: config.worker.WORKER_SLOTS,
    lockDuration: config.worker.LOCK_DURATION_MS,
    stalledInterval: config.worker.STALLED_INTERVAL_MS,
    maxStalledCount: config.worker.MAX_STALLED_COUNT,
  });
  worker.on("error", (error) => log.error({ err: error }, "worker error"));
  worker.on("failed", (job, error) => log.warn({ jobId: job?.id, reason: error.message }, "job failed"));
  await worker.waitUntilReady();
  return worker;
}

/** Leaves why this worker refused to start for /readyz (api/readiness.ts); best effort, kept a day. */
async function recordSandboxRefusal(config: WorkerConfig, detail: string): Promise<void> {
  const prefix = config.queue.QUEUE_PREFIX;
  const redis = connectRedis(config.queue, "start worker", { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => {}); // unreachable Redis: the start-up error itself still reaches the operator
  try {
    const refusal: SandboxRefusal = { host: os.hostname(), at: new Date().toISOString(), detail };
    await redis.set(redisKeys(prefix).sandboxRefusal, JSON.stringify(refusal), "EX", 86_400);
  } catch {
    // as above
  } finally {
    redis.disconnect();
  }
}

/** What each heartbeat says about this worker. */
function heartbeatOf(parts: WorkerParts, config: WorkerConfig): () => WorkerHeartbeat {
  const startedAt = new Date().toISOString();
  return () => ({
    id: parts.id,
    pid: process.pid,
    host: os.hostname(),
    slots: config.worker.WORKER_SLOTS,
    busySlots: parts.slots.busy,
    languages: parts.languages.ids(),
    images: parts.languages.imageNames(),
    selfCheck: parts.sandbox.selfCheck,
    startedAt,
  });
}

/** Stops fetching, lets running jobs finish until the deadline, aborts the rest, releases everything. */
async function stopWorker(parts: WorkerParts, worker: Worker, deadlineMs: number): Promise<void> {
  const { log, cancels, redis } = parts;
  log.info({ running: cancels.running }, "worker stopping");
  const deadline = setTimeout(() => {
    log.warn({ running: cancels.running }, "shutdown deadline passed; stopping running jobs for retry");
    cancels.abortAll("shutdown");
  }, deadlineMs);
  try {
    await worker.close();
  } finally {
    clearTimeout(deadline);
    await parts.languages.close();
    await parts.sandbox.releaseStandbys();
    await workDirRemovalsSettled();
    parts.sandbox.uidClaim.release();
    cancels.close();
    await parts.metrics.flush();
    // quit() waits for replies in flight; when Redis is already gone, cut the connection instead.
    await redis.quit().catch(() => redis.disconnect());
  }
  log.info("worker stopped");
}
