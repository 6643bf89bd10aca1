import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { redisKeys } from "../contract/queue.ts";
import { type CallbackView, type DeliveryAttempt, DeliveryAttemptSchema } from "../contract/webhook.ts";

// Flow parents in the completions queue: `job-<jobId>` (a job with a callbackUrl) and
// `batch-<batchId>` (every batch). Their data says whom to tell; their attempts and exponential
// backoff are the webhook's retries. Attempts are recorded in a list per parent so GET /jobs/:id
// and GET /batches/:id can show them.

export interface CompletionData {
  kind: "job" | "batch";
  /** Job id or batch id. */
  ownerId: string;
  keyId: string;
  url?: string | undefined;
}

export function completionJobOptions(config: Config, jobId: string, hasCallback: boolean) {
  return {
    jobId,
    attempts: hasCallback ? config.WEBHOOK_ATTEMPTS : 1,
    backoff: { type: "exponential" as const, delay: config.WEBHOOK_BACKOFF_MS },
    removeOnComplete: { age: config.RESULT_TTL_S },
    removeOnFail: { age: config.RESULT_TTL_S },
  };
}

export async function recordAttempt(
  redis: Redis,
  config: Config,
  parentId: string,
  attempt: DeliveryAttempt,
): Promise<void> {
  const key = redisKeys(config.QUEUE_PREFIX).deliveries(parentId);
  await redis.multi().rpush(key, JSON.stringify(attempt)).expire(key, config.RESULT_TTL_S).exec();
}

/** The callback of a flow parent, or null when it has none (or is gone). */
export async function callbackView(
  redis: Redis,
  config: Config,
  completions: Queue,
  parentId: string,
): Promise<CallbackView | null> {
  const parent = await completions.getJob(parentId);
  const url = (parent?.data as CompletionData | undefined)?.url;
  if (!parent || !url) return null;
  const [state, rawAttempts] = await Promise.all([
    parent.getState(),
    redis.lrange(redisKeys(config.QUEUE_PREFIX).deliveries(parentId), 0, -1),
  ]);
  const attempts = rawAttempts.map((raw) => DeliveryAttemptSchema.parse(JSON.parse(raw)));
  const delivered = attempts.some((a) => a.ok);
  return {
    url,
    state: delivered ? "delivered" : state === "failed" ? "failed" : "pending",
    attempts,
  };
}
