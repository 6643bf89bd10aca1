import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { redisKeys, WorkerHeartbeat } from "../contract/queue.ts";

// Each worker records "I am alive" in a sorted set scored by time; GET /readyz counts the workers
// seen within a few heartbeat intervals, GET /workers lists them, /metrics sums their slots. A
// worker that dies simply stops updating its score: the entry ages out like a key with a TTL.

export function startHeartbeat(
  redis: Redis,
  keys: ReturnType<typeof redisKeys>,
  info: () => WorkerHeartbeat,
  intervalMs: number,
  log: Logger,
) {
  const beat = async () => {
    const now = Date.now();
    const current = info();
    await redis
      .multi()
      .zadd(keys.workers, now, current.id)
      .hset(keys.workerInfo, current.id, JSON.stringify({ ...current, seenAt: new Date(now).toISOString() }))
      // Forget workers silent for a long time so the set does not grow with every restart.
      .zremrangebyscore(keys.workers, "-inf", now - 100 * intervalMs)
      .exec();
  };
  const tick = () => beat().catch((error) => log.warn({ err: error }, "heartbeat failed"));
  void tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await redis
        .multi()
        .zrem(keys.workers, info().id)
        .hdel(keys.workerInfo, info().id)
        .exec()
        .catch((error) =>
          log.warn({ err: error }, "heartbeat removal failed; the entry ages out after 3 intervals"),
        );
    },
  };
}
