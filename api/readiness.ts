import type { Redis } from "ioredis";
import type { QueueConfig } from "../config/load-config.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys, SandboxRefusalSchema } from "../contract/queue.ts";
import { liveWorkers } from "./worker-registry.ts";

// /readyz: Redis answers, and at least one worker whose sandbox self-check passed has sent a
// heartbeat within three intervals. The self-check runs in the worker (it refuses to start without
// it), because the API process may run on a machine without the sandbox.

export interface Readiness {
  ready: boolean;
  checks: { redis: boolean; workers: number; sandboxSelfCheck: boolean };
  reason?: string;
}

export async function checkReadiness(
  redis: Redis,
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "HEARTBEAT_INTERVAL_MS">,
): Promise<Readiness> {
  try {
    await redis.ping();
  } catch {
    return {
      ready: false,
      checks: { redis: false, workers: 0, sandboxSelfCheck: false },
      reason: "Redis unreachable",
    };
  }
  const workers = await liveWorkers(redis, queue);
  const healthy = workers.filter((w) => w.selfCheck.ok).length;
  const checks = { redis: true, workers: workers.length, sandboxSelfCheck: healthy > 0 };
  if (healthy === 0) {
    // A worker whose sandbox lacks a prerequisite refuses to start and leaves why (worker/start-worker.ts).
    const raw = await redis.get(redisKeys(queue.QUEUE_PREFIX).sandboxRefusal);
    const refusal = raw === null ? null : parseJsonWith(SandboxRefusalSchema, raw);
    const why = refusal
      ? `; a worker on ${refusal.host} refused to start at ${refusal.at}: ${refusal.detail}`
      : "";
    return {
      ready: false,
      checks,
      reason: `no worker with a passing sandbox self-check seen recently${why}`,
    };
  }
  return { ready: true, checks };
}
