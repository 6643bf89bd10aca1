import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { QueueConfig, WebhookConfig } from "../config/load-config.ts";
import { CompletionDataSchema, redisKeys } from "../contract/queue.ts";
import { type CallbackView, type DeliveryAttempt, DeliveryAttemptSchema } from "../contract/webhook.ts";

// Flow parents in the completions queue: `job-<jobId>` (a job with a callbackUrl) and
// `batch-<batchId>` (every batch). Their data (CompletionData) says whom to tell; their attempts
// and exponential backoff are the webhook's retries. Attempts are recorded in a list per parent so
// GET /jobs/:id and GET /batches/:id can show them.

export interface CompletionSettings {
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">;
  webhooks: Pick<WebhookConfig, "WEBHOOK_ATTEMPTS" | "WEBHOOK_BACKOFF_MS">;
}

export function completionJobOptions(settings: CompletionSettings, jobId: string, hasCallback: boolean) {
  return {
    jobId,
    attempts: hasCallback ? settings.webhooks.WEBHOOK_ATTEMPTS : 1,
    backoff: { type: "exponential" as const, delay: settings.webhooks.WEBHOOK_BACKOFF_MS },
    removeOnComplete: { age: settings.queue.RESULT_TTL_S },
    removeOnFail: { age: settings.queue.RESULT_TTL_S },
  };
}

export async function recordAttempt(
  redis: Redis,
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">,
  parentId: string,
  attempt: DeliveryAttempt,
): Promise<void> {
  const key = redisKeys(queue.QUEUE_PREFIX).deliveries(parentId);
  await redis.multi().rpush(key, JSON.stringify(attempt)).expire(key, queue.RESULT_TTL_S).exec();
}

/** The callback of a flow parent, or null when it has none (or is gone). */
export async function callbackView(
  redis: Redis,
  prefix: string,
  completions: Queue,
  parentId: string,
): Promise<CallbackView | null> {
  const parent = await completions.getJob(parentId);
  if (!parent) return null;
  const { url } = CompletionDataSchema.parse(parent.data);
  if (!url) return null;
  const [state, rawAttempts] = await Promise.all([
    parent.getState(),
    redis.lrange(redisKeys(prefix).deliveries(parentId), 0, -1),
  ]);
  const attempts = rawAttempts.map((raw) => DeliveryAttemptSchema.parse(JSON.parse(raw)));
  const delivered = attempts.some((a) => a.ok);
  return {
    url,
    state: delivered ? "delivered" : state === "failed" ? "failed" : "pending",
    attempts,
  };
}
