import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../app/config.ts";
import { addToSharedMetric } from "../app/shared-metrics-store.ts";
import { COMPLETIONS_QUEUE_NAME, redisKeys } from "../contract/queue.ts";
import { sharedMetrics } from "../contract/shared-metrics.ts";
import type { KeyDirectory } from "./api-keys.ts";
import type { BatchQueue } from "./batch-queue.ts";
import { type CompletionData, recordAttempt } from "./completion-jobs.ts";
import { deliverWebhook } from "./deliver-webhook.ts";
import type { JobQueue } from "./job-queue.ts";
import type { WebhookAddressPolicy } from "./webhook-address-policy.ts";

// Runs in every API process: takes flow parents that BullMQ released because their jobs
// finished, marks batches finished, and delivers webhooks. A failed delivery throws, so BullMQ
// retries the parent with exponential backoff (WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_MS); the payload
// is rebuilt on each attempt from the stored results.

export interface CompletionWorkerDeps {
  redis: Redis;
  config: Config;
  logger: Logger;
  jobs: JobQueue;
  batches: BatchQueue;
  directory: KeyDirectory;
  policy: WebhookAddressPolicy;
}

export function startCompletionWorker(deps: CompletionWorkerDeps): { close(): Promise<void> } {
  const { redis, config, logger, jobs, batches, directory, policy } = deps;
  const keys = redisKeys(config.QUEUE_PREFIX);

  const payloadOf = async (data: CompletionData): Promise<{ event: string; body: unknown }> => {
    if (data.kind === "job") {
      return { event: "job.finished", body: { event: "job.finished", job: await jobs.view(data.ownerId) } };
    }
    const view = await batches.view(data.ownerId, data.keyId, 0, 0);
    const summary = view && { id: view.id, status: view.status, total: view.total, counts: view.counts };
    return { event: "batch.finished", body: { event: "batch.finished", batch: summary } };
  };

  const process = async (job: Job<CompletionData>) => {
    const data = job.data;
    if (data.kind === "batch")
      await redis.hset(keys.batch(data.ownerId), "finishedAt", new Date().toISOString());
    if (!data.url) return { delivered: false };
    const secret = await directory.webhookSecret(data.keyId);
    if (!secret) throw new UnrecoverableError(`no webhook secret for API key ${data.keyId}`);
    const { event, body } = await payloadOf(data);
    const attempt = job.attemptsMade + 1;
    const outcome = await deliverWebhook(
      { url: data.url, event, deliveryId: job.id as string, body: JSON.stringify(body), secret },
      policy,
      config,
    );
    await recordAttempt(redis, config, job.id as string, {
      attempt,
      at: new Date().toISOString(),
      status: outcome.status,
      ok: outcome.ok,
      ...(outcome.error ? { error: outcome.error } : {}),
      durationMs: outcome.durationMs,
    });
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    const outcomeLabel = outcome.ok ? "delivered" : lastAttempt ? "failed" : "retrying";
    await addToSharedMetric(redis, config.QUEUE_PREFIX, sharedMetrics.webhookDeliveries, {
      outcome: outcomeLabel,
    });
    const log = { parent: job.id, attempt, status: outcome.status };
    if (outcome.ok) {
      logger.info(log, "webhook delivered");
      return { delivered: true };
    }
    logger.warn(
      { ...log, error: outcome.error },
      lastAttempt ? "webhook failed; giving up" : "webhook failed; will retry",
    );
    throw new Error(`deliver webhook: ${outcome.error}`);
  };

  const connection = redis.duplicate({ maxRetriesPerRequest: null });
  const worker = new Worker(COMPLETIONS_QUEUE_NAME, process, {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WEBHOOK_CONCURRENCY,
  });
  worker.on("error", (error) => logger.error({ err: error }, "completion worker error"));
  return {
    async close() {
      await worker.close();
      // BullMQ does not close a connection it was handed.
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
