import type { Redis } from "ioredis";
import { z } from "zod";
import type { ApiSettings, QueueConfig } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";
import {
  PRIORITY_BATCH,
  PRIORITY_INTERACTIVE,
  PRIORITY_MAX,
  type PriorityBand,
  redisKeys,
} from "../contract/queue.ts";
import type { Caller } from "./api-keys.ts";

// Fair share across API keys with plain BullMQ priorities (BullMQ's own per-group rate limiting
// is a Pro feature). A job's priority is its band's base plus its position in its key's backlog in
// that band: key A's 10,000 queued batch jobs get 10000…19999, and key B's first job submitted
// later gets 10000 again, so it runs next — keys take turns, like round-robin between per-key
// queues, without the cost of one queue per key (which would split the global order and need a
// dispatcher). Interactive jobs use 1…9999, so they always go before batch jobs.
// The backlog is a Redis set of the key's waiting job ids per band; the API adds to it here, the
// worker removes a job when it starts it, cancel removes it too. The same sets give the
// queued-jobs quota. One Lua script checks the quota and reserves the positions atomically.
// Known trade: positions are taken at submit time, so a key's newer jobs may overtake its own older
// ones that got larger positions; across keys the order stays fair.

const reserveScript = `
local queued = redis.call('SCARD', KEYS[1]) + redis.call('SCARD', KEYS[2])
local maxQueued = tonumber(ARGV[1])
local count = #ARGV - 2
if maxQueued > 0 and queued + count > maxQueued then return {0, queued} end
local position = redis.call('SCARD', KEYS[1])
for i = 3, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return {1, position}`;

/** The script's reply: {1, first position} when reserved, {0, queued now} when over the quota. */
const ReserveReplySchema = z.tuple([z.union([z.literal(0), z.literal(1)]), z.number().int().nonnegative()]);

const otherBand = (band: PriorityBand): PriorityBand => (band === "batch" ? "interactive" : "batch");

export interface FairShareSettings {
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">;
  api: Pick<ApiSettings, "QUOTA_RETRY_AFTER_S">;
}

/** Priorities for `jobIds` (in order), after checking the caller's queued-jobs quota. */
export async function reservePriorities(
  redis: Redis,
  settings: FairShareSettings,
  caller: Caller,
  band: PriorityBand,
  jobIds: string[],
): Promise<number[]> {
  const keys = redisKeys(settings.queue.QUEUE_PREFIX);
  const reply = await redis.eval(
    reserveScript,
    2,
    keys.queuedByKey(caller.keyId, band),
    keys.queuedByKey(caller.keyId, otherBand(band)),
    caller.limits.maxQueuedJobs,
    settings.queue.RESULT_TTL_S,
    ...jobIds,
  );
  const [ok, value] = ReserveReplySchema.parse(reply);
  if (ok === 0) {
    const max = caller.limits.maxQueuedJobs;
    throw new ServiceError(
      "E_QUOTA_EXCEEDED",
      `this API key may have ${max} jobs queued; ${value} are queued and ${jobIds.length} more were submitted`,
      { maxQueuedJobs: max, queued: value, submitted: jobIds.length },
      { "Retry-After": String(settings.api.QUOTA_RETRY_AFTER_S) },
    );
  }
  const [base, top] =
    band === "interactive" ? [PRIORITY_INTERACTIVE, PRIORITY_BATCH - 1] : [PRIORITY_BATCH, PRIORITY_MAX];
  return jobIds.map((_, i) => Math.min(top, base + value + i));
}

/** Gives back reservations of jobs that were never enqueued, or were cancelled while queued. */
export async function releaseReservations(
  redis: Redis,
  prefix: string,
  keyId: string,
  band: PriorityBand,
  jobIds: string[],
): Promise<void> {
  if (jobIds.length === 0) return;
  await redis.srem(redisKeys(prefix).queuedByKey(keyId, band), ...jobIds);
}
