import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { redisKeys, type WorkerHeartbeat } from "../contract/queue.ts";

// Workers register themselves by heartbeat (worker/heartbeat.ts): a sorted set scored by the last
// beat plus a hash of details. A worker counts as alive while its last beat is younger than three
// intervals — in effect a TTL that needs no cleanup when a worker dies without saying goodbye.

export async function liveWorkers(redis: Redis, config: Config): Promise<WorkerHeartbeat[]> {
  const keys = redisKeys(config.QUEUE_PREFIX);
  const since = Date.now() - 3 * config.HEARTBEAT_INTERVAL_MS;
  const ids = await redis.zrangebyscore(keys.workers, since, "+inf");
  if (ids.length === 0) return [];
  const infos = await redis.hmget(keys.workerInfo, ...ids);
  return infos.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as WorkerHeartbeat);
}
