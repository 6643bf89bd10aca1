import { randomUUID } from "node:crypto";
import os from "node:os";
import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { type Config, sandboxUidBase } from "../app/config.ts";
import type { JobResult } from "../contract/job-result.ts";
import {
  QUEUE_NAME,
  type QueuedJob,
  QueuedJobSchema,
  redisKeys,
  type WorkerHeartbeat,
} from "../contract/queue.ts";
import { DispatchGate } from "./dispatch-gate.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { LanguageImages } from "./language-images.ts";
import type { LanguageDefinition, ResolvedLanguage } from "./languages.ts";
import { recordJobResult, recordQueueWait, recordSetupFailure } from "./record-job-metrics.ts";
import { JobAbortedError, runJob, SandboxSetupError } from "./run-job.ts";
import { SlotPool } from "./slot-pool.ts";
import { prepareWorkRoot, workDirRemovalsSettled } from "./work-dir.ts";

// Theory of operation: a BullMQ Worker with concurrency = sandbox slots. A job first passes the
// dispatch gate (language available here, its API key under its running-jobs limit; otherwise it
// goes back to the queue delayed, see dispatch-gate.ts). Then it takes a slot and
// an AbortController; a Redis pub/sub channel carries cancellations (DELETE /jobs/:id) to whichever
// worker holds the job, which aborts the running sandbox. Outcomes:
//   - a result (any verdict, including internal_error on the last attempt) → job completed;
//   - sandbox setup failure before the last attempt → throw, BullMQ retries with backoff;
//   - cancelled → UnrecoverableError("cancelled"), never retried;
//   - worker killed → its lock expires, another worker's stalled check re-queues the job.
// Shutdown stops fetching, lets running jobs finish until the deadline, then aborts them with a
// retryable error so they run again elsewhere.

export const CANCELLED_REASON = "cancelled";

export interface StartedWorker {
  id: string;
  close(): Promise<void>;
}

export async function startWorker(config: Config, logger: Logger): Promise<StartedWorker> {
  if (!config.REDIS_URL) throw new Error("start worker: REDIS_URL is not set");
  const { configureSandbox, releaseStandbys, runSandbox, selfCheck } = await import("../native/index.ts");
  const uidBase = sandboxUidBase(config);
  // Prewarm: each slot prepares its next container while idle (see native/src/slot-runner.h).
  configureSandbox({
    uidBase,
    prewarm: true,
    ...(config.SANDBOX_CGROUP_PARENT ? { cgroupParent: config.SANDBOX_CGROUP_PARENT } : {}),
    ...(process.env.CELLBLOCK_CGROUP_ROOT ? { cgroupRoot: process.env.CELLBLOCK_CGROUP_ROOT } : {}),
  });
  const check = await selfCheck();
  if (!check.ok) throw new Error(`start worker: sandbox self-check failed: ${check.detail}`);

  await prepareWorkRoot(config.WORK_ROOT);
  const keys = redisKeys(config.QUEUE_PREFIX);
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  // The map is updated in place when the images root changes (a build, an import, a gc).
  const languages = new Map<string, LanguageDefinition>();
  const images = new LanguageImages(config, (message) => logger.warn(message));
  const publish = (resolved: ResolvedLanguage[]) => {
    languages.clear();
    for (const l of resolved) languages.set(l.definition.id, l.definition);
    return redis.set(keys.languages, JSON.stringify(resolved.map((l) => l.info)));
  };
  await publish(await images.resolve());
  await images.watch(async (resolved) => {
    await publish(resolved);
    logger.info({ languages: [...languages.keys()] }, "languages re-resolved after an image change");
  });

  const id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = logger.child({ worker: id });
  const slots = new SlotPool(config.WORKER_SLOTS);
  const controllers = new Map<string, AbortController>();

  const subscriber = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  subscriber.on("message", (_channel: string, jobId: string) =>
    controllers.get(jobId)?.abort(CANCELLED_REASON),
  );
  await subscriber.subscribe(keys.cancelChannel);

  const gate = new DispatchGate(redis, keys, config, languages);
  const metric = (record: Promise<void>) =>
    record.catch((error) => log.warn({ err: error }, "record metric failed"));

  const processJob = async (job: Job, token?: string): Promise<JobResult> => {
    const jobId = job.id as string;
    const parsed = QueuedJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${parsed.error.issues[0]?.message}`);
    const queued: QueuedJob = parsed.data;
    const admission = await gate.admit(jobId, queued);
    if (!admission.admitted) {
      log.debug({ jobId, reason: admission.reason }, "job handed back");
      await job.moveToDelayed(Date.now() + config.DISPATCH_RETRY_DELAY_MS, token);
      throw new DelayedError(admission.reason);
    }
    const language = languages.get(queued.request.language) as LanguageDefinition;
    const startedAt = Date.now();
    if (job.attemptsMade === 0 && job.stalledCounter === 0) {
      void metric(recordQueueWait(redis, config.QUEUE_PREFIX, queued.band, startedAt - job.timestamp));
    }

    // Register before checking the marker: DELETE sets the marker, then publishes, so a cancel is
    // seen either here or by the subscriber.
    const controller = new AbortController();
    controllers.set(jobId, controller);
    const slot = slots.acquire();
    try {
      // One round trip for both (ioredis sends them back to back): this is every job's critical path.
      const [, cancelled] = await Promise.all([
        gate.started(jobId, queued),
        redis.exists(keys.cancelled(jobId)),
      ]);
      if (cancelled) throw new UnrecoverableError(CANCELLED_REASON);
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const ctx = { config, runSandbox, slot, uidBase, signal: controller.signal };
      const result = await runJob(jobId, queued.request, language, ctx, { throwOnSetupError: !lastAttempt });
      log.info(
        { jobId, keyId: queued.keyId, batchId: queued.batchId, verdict: result.verdict, slot },
        "job finished",
      );
      void metric(recordJobResult(redis, config.QUEUE_PREFIX, result, Date.now() - startedAt));
      if (result.verdict === "internal_error") void metric(recordSetupFailure(redis, config.QUEUE_PREFIX));
      return result;
    } catch (error) {
      if (error instanceof SandboxSetupError) void metric(recordSetupFailure(redis, config.QUEUE_PREFIX));
      if (error instanceof JobAbortedError) {
        if (error.reason === CANCELLED_REASON) throw new UnrecoverableError(CANCELLED_REASON);
        throw new Error("worker shut down while the job ran; it will be retried");
      }
      throw error;
    } finally {
      slots.release(slot);
      controllers.delete(jobId);
      await gate.finished(jobId, queued).catch((error) => log.warn({ err: error }, "release running place"));
    }
  };

  const worker = new Worker(QUEUE_NAME, processJob, {
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_SLOTS,
    lockDuration: config.LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    maxStalledCount: config.MAX_STALLED_COUNT,
  });
  worker.on("error", (error) => log.error({ err: error }, "worker error"));
  worker.on("failed", (job, error) => log.warn({ jobId: job?.id, reason: error.message }, "job failed"));
  await worker.waitUntilReady();

  const startedAt = new Date().toISOString();
  const imageNames = () => [
    ...new Set([...languages.values()].map((l) => (l.rootfs.kind === "host" ? "host" : l.rootfs.path))),
  ];
  const info = (): WorkerHeartbeat => ({
    id,
    pid: process.pid,
    host: os.hostname(),
    slots: config.WORKER_SLOTS,
    busySlots: controllers.size,
    languages: [...languages.keys()],
    images: imageNames(),
    selfCheck: check,
    startedAt,
  });
  const heartbeat = startHeartbeat(redis, keys, info, config.HEARTBEAT_INTERVAL_MS, log);
  log.info({ slots: config.WORKER_SLOTS, uidBase, languages: [...languages.keys()] }, "worker started");

  let closed: Promise<void> | null = null;
  const close = async () => {
    log.info({ running: controllers.size }, "worker stopping");
    await heartbeat.stop();
    const deadline = setTimeout(() => {
      log.warn({ running: controllers.size }, "shutdown deadline passed; stopping running jobs for retry");
      for (const controller of controllers.values()) controller.abort("shutdown");
    }, config.SHUTDOWN_DEADLINE_MS);
    try {
      await worker.close();
    } finally {
      clearTimeout(deadline);
      await images.close();
      await releaseStandbys();
      await workDirRemovalsSettled();
      subscriber.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    }
    log.info("worker stopped");
  };
  return {
    id,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
