import { setTimeout as delay } from "node:timers/promises";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ApiConfig } from "../config/load-config.ts";
import {
  COMPLETIONS_QUEUE_NAME,
  type CompletionData,
  CompletionDataSchema,
  redisKeys,
} from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import { addToSharedMetric } from "../redis/shared-metrics-store.ts";
import type { KeyDirectory } from "./api-keys.ts";
import type { BatchQueue } from "./batch-queue.ts";
import { recordAttempt } from "./completion-jobs.ts";
import { type AttemptOutcome, deliverWebhook } from "./deliver-webhook.ts";
import type { JobQueue } from "./job-queue.ts";
import type { WebhookAddressPolicy } from "./webhook-address-policy.ts";

// Runs in every API process: takes flow parents that BullMQ released because their jobs
// finished, marks batches finished, and delivers webhooks. A failed delivery throws, so BullMQ
// retries the parent with exponential backoff (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS); the payload
// is rebuilt on each attempt from the stored results.

/** How long close() waits for a worker still starting (see there). */
const START_SETTLE_MS = 2_000;

export interface CompletionWorkerDeps {
  redis: Redis;
  settings: Pick<ApiConfig, "queue" | "webhooks">;
  logger: Logger;
  jobs: JobQueue;
  batches: BatchQueue;
  directory: KeyDirectory;
  policy: WebhookAddressPolicy;
}

/** The webhook's event and body, rebuilt from what is stored now. */
async function payloadOf(
  deps: CompletionWorkerDeps,
  data: CompletionData,
): Promise<{ event: string; body: unknown }> {
  if (data.kind === "job") {
    return {
      event: "job.finished",
      body: { event: "job.finished", job: await deps.jobs.view(data.ownerId) },
    };
  }
  const view = await deps.batches.view(data.ownerId, data.keyId, 0, 0);
  const summary = view && { id: view.id, status: view.status, total: view.total, counts: view.counts };
  return { event: "batch.finished", body: { event: "batch.finished", batch: summary } };
}

/** Records one attempt (its list, the shared counter) and logs it. */
async function noteAttempt(deps: CompletionWorkerDeps, job: Job, attempt: number, outcome: AttemptOutcome) {
  const { redis, settings, logger } = deps;
  const parentId = job.id ?? "";
  await recordAttempt(redis, settings.queue, parentId, {
    attempt,
    at: new Date().toISOString(),
    status: outcome.status,
    ok: outcome.ok,
    ...(outcome.error ? { error: outcome.error } : {}),
    durationMs: outcome.durationMs,
  });
  const lastAttempt = attempt >= (job.opts.attempts ?? 1);
  const label = outcome.ok ? "delivered" : lastAttempt ? "failed" : "retrying";
  await addToSharedMetric(redis, settings.queue.QUEUE_PREFIX, sharedMetrics.webhookDeliveries, {
    outcome: label,
  });
  const log = { parent: parentId, attempt, status: outcome.status };
  if (outcome.ok) logger.info(log, "webhook delivered");
  else
    logger.warn(
      { ...log, error: outcome.error },
      lastAttempt ? "webhook failed; giving up" : "webhook failed; will retry",
    );
}

export function startCompletionWorker(deps: CompletionWorkerDeps): { close(): Promise<void> } {
  const { redis, settings, logger } = deps;
  const keys = redisKeys(settings.queue.QUEUE_PREFIX);

  const process = async (job: Job) => {
    const parsed = CompletionDataSchema.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid completion data: ${parsed.error.issues[0]?.message}`);
    const data = parsed.data;
    if (data.kind === "batch")
      await redis.hset(keys.batch(data.ownerId), "finishedAt", new Date().toISOString());
    if (!data.url) return { delivered: false };
    const secret = await deps.directory.webhookSecret(data.keyId);
    if (!secret) throw new UnrecoverableError(`no webhook secret for API key ${data.keyId}`);
    const { event, body } = await payloadOf(deps, data);
    const attempt = job.attemptsMade + 1;
    const outcome = await deliverWebhook(
      { url: data.url, event, deliveryId: job.id ?? "", body: JSON.stringify(body), secret },
      deps.policy,
      settings.webhooks,
    );
    await noteAttempt(deps, job, attempt, outcome);
    if (outcome.ok) return { delivered: true };
    throw new Error(`deliver webhook: ${outcome.error}`);
  };

  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(COMPLETIONS_QUEUE_NAME, process, {
    connection,
    prefix: settings.queue.QUEUE_PREFIX,
    concurrency: settings.webhooks.WEBHOOK_CONCURRENCY,
  });
  worker.on("error", (error) => logger.error({ err: error }, "completion worker error"));
  return {
    async close() {
      // Closed while it still starts (an API stopped right after its start), BullMQ cuts its
      // connections mid-way and the start's own commands end as unhandled "Connection is closed"
      // rejections; so let the start finish first, but never wait long on a Redis that is gone.
      await Promise.race([
        worker.waitUntilReady().catch(() => undefined),
        delay(START_SETTLE_MS, undefined, { ref: false }),
      ]);
      await worker.close();
      // BullMQ does not close a connection it was handed; quit() waits for replies in flight,
      // disconnect() cuts a connection whose Redis is already gone.
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
