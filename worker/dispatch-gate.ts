import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import type { QueuedJob, redisKeys } from "../contract/queue.ts";
import type { LanguageDefinition } from "./languages.ts";

// Whether this worker may run a job it has just taken, and the bookkeeping of starting/ending it.
// One queue serves every language and key, so the fleet keeps one global priority order (fair
// share and interactive-first need it); the cost is that a worker can take a job it must not run
// yet. Then it hands the job back delayed by DISPATCH_RETRY_DELAY_MS (check-and-delay) — BullMQ
// returns it with its priority unchanged. Two reasons:
//   - the worker lacks the job's language (heterogeneous fleets: images on some hosts only);
//   - the job's API key already runs maxRunningJobs jobs fleet-wide.
// Running jobs per key are a sorted set of job ids scored by lease expiry, so a worker that dies
// mid-job frees its key's place when the lease runs out instead of leaking it forever.

const claimScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
local limit = tonumber(ARGV[2])
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export type Admission = { admitted: true } | { admitted: false; reason: string };

export class DispatchGate {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ReturnType<typeof redisKeys>,
    private readonly config: Config,
    private readonly languages: ReadonlyMap<string, LanguageDefinition>,
  ) {}

  /** Claims a running place for the job's key, or says why not. */
  async admit(jobId: string, job: QueuedJob): Promise<Admission> {
    if (!this.languages.has(job.request.language)) {
      return { admitted: false, reason: `language ${job.request.language} is not available on this worker` };
    }
    if (job.maxRunningJobs === 0) return { admitted: true };
    const now = Date.now();
    const leaseMs = this.leaseMs(job);
    const claimed = await this.redis.eval(
      claimScript,
      1,
      this.keys.runningByKey(job.keyId),
      now,
      job.maxRunningJobs,
      jobId,
      now + leaseMs,
      leaseMs,
    );
    return claimed === 1
      ? { admitted: true }
      : { admitted: false, reason: `API key ${job.keyId} runs ${job.maxRunningJobs} jobs already` };
  }

  /** The job is running: it no longer counts as queued for its key's fair share and quota. */
  async started(jobId: string, job: QueuedJob): Promise<void> {
    await this.redis.srem(this.keys.queuedByKey(job.keyId, job.band), jobId);
  }

  async finished(jobId: string, job: QueuedJob): Promise<void> {
    if (job.maxRunningJobs > 0) await this.redis.zrem(this.keys.runningByKey(job.keyId), jobId);
  }

  /** Longest the job can hold its place: every step at its wall-time limit, plus the lock margin. */
  private leaseMs(job: QueuedJob): number {
    const wallMs = job.request.limits.wallTimeMs ?? this.config.MAX_WALL_TIME_MS;
    const steps = (job.request.tests?.length ?? 1) + 1;
    return steps * Math.max(wallMs, this.config.COMPILE_WALL_TIME_MS) + this.config.LOCK_DURATION_MS;
  }
}
