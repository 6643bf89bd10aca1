import type { Redis } from "ioredis";
import type { QueueConfig } from "../config/load-config.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys, type WorkerHeartbeat, WorkerHeartbeatSchema } from "../contract/queue.ts";

// Workers register themselves by heartbeat (worker/heartbeat.ts): a sorted set scored by the last
// beat plus a hash of details. A worker counts as alive while its last beat is younger than three
// intervals — in effect a TTL that needs no cleanup when a worker dies without saying goodbye.
// Details that do not parse as a heartbeat (another version's worker, a hand edit) count as no
// worker: a worker we cannot read is not one /readyz may rely on.

export async function liveWorkers(
  redis: Redis,
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "HEARTBEAT_INTERVAL_MS">,
): Promise<WorkerHeartbeat[]> {
  const keys = redisKeys(queue.QUEUE_PREFIX);
  const since = Date.now() - 3 * queue.HEARTBEAT_INTERVAL_MS;
  const ids = await redis.zrangebyscore(keys.workers, since, "+inf");
  if (ids.length === 0) return [];
  const infos = await redis.hmget(keys.workerInfo, ...ids);
  return infos.flatMap((raw) => {
    const heartbeat = raw === null ? null : parseJsonWith(WorkerHeartbeatSchema, raw);
    return heartbeat ? [heartbeat] : [];
  });
}
