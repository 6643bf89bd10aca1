import type { ChainableCommander, Redis } from "ioredis";
import type { LimitsConfig } from "../config/load-config.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JudgeProgram } from "../contract/judge-program.ts";
import type { QueuedJob, redisKeys } from "../contract/queue.ts";
import {
  jobWallTimeMs,
  type OperatorLimits,
  resolveCompileLimits,
  resolveRunLimits,
} from "../contract/resolve-limits.ts";
import type { RunnableLanguage } from "./resolve-languages.ts";
import type { JudgeLanguages } from "./step-context.ts";

// Whether this worker may run a job it has just taken, and the bookkeeping of starting/ending it.
// One queue serves every language and key, so the fleet keeps one global priority order (fair
// share and interactive-first need it); the cost is that a worker can take a job it must not run
// yet. Then it hands the job back delayed by DISPATCH_RETRY_DELAY_MS (check-and-delay) — BullMQ
// returns it with its priority unchanged. Two reasons:
//   - the worker lacks the job's language (heterogeneous fleets: images on some hosts only);
//   - the job's API key already runs maxRunningJobs jobs fleet-wide.
// Running jobs per key are a sorted set of job ids scored by lease expiry, so a worker that dies
// mid-job frees its key's place when the lease runs out instead of leaking it forever. The lease
// must outlast the job, or the key could start more jobs than its limit while this one still runs:
// it is sized from the same limit resolution the run uses (runningLeaseMs).

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

/** Time a step takes beyond its wall-time limit: container set-up and teardown, result upload. */
export const STEP_OVERHEAD_MS = 1000;

/**
 * How long a job holds its key's running place: every step at its wall-time limit (compile with
 * the language's compile limits, each test with the resolved run limits), each step's overhead,
 * and the lock duration — after which a dead worker's job is re-queued and claims again.
 */
export function runningLeaseMs(
  request: Pick<JobRequest, "limits" | "tests">,
  language: RunnableLanguage,
  limits: Pick<OperatorLimits, "run" | "compile">,
  lockDurationMs: number,
): number {
  const steps = (request.tests?.length ?? 1) + (language.compile ? 1 : 0);
  return jobWallTimeMs(request, language, limits) + steps * STEP_OVERHEAD_MS + lockDurationMs;
}

/**
 * The judge programs' share of a lease: the checker's compile and one checker run per test; the
 * interactor's compile and, per test, its wall time beyond the program's (they run together).
 */
export function judgeLeaseMs(
  request: Pick<JobRequest, "tests" | "checker" | "interactor">,
  judge: JudgeLanguages,
  limits: Pick<OperatorLimits, "run" | "compile">,
): number {
  const tests = request.tests?.length ?? 0;
  const share = (program: JudgeProgram | undefined, language: RunnableLanguage | undefined) => {
    if (!program || !language) return 0;
    const compileMs = language.compile ? resolveCompileLimits(language, limits).wallTimeMs : 0;
    const runMs = resolveRunLimits(program.limits, language, limits).wallTimeMs;
    return compileMs + tests * runMs + (tests + 1) * STEP_OVERHEAD_MS;
  };
  return share(request.checker, judge.checker) + share(request.interactor, judge.interactor);
}

export type Admission =
  | { admitted: true; language: RunnableLanguage; judgeLanguages: JudgeLanguages }
  | { admitted: false; reason: string };

export interface DispatchGateSettings {
  limits: Pick<LimitsConfig, "run" | "compile">;
  /** LOCK_DURATION_MS. */
  lockDurationMs: number;
}

export class DispatchGate {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ReturnType<typeof redisKeys>,
    private readonly settings: DispatchGateSettings,
    private readonly languages: ReadonlyMap<string, RunnableLanguage>,
  ) {}

  /** Claims a running place for the job's key, or says why not. */
  async admit(jobId: string, job: QueuedJob): Promise<Admission> {
    const language = this.languages.get(job.request.language);
    if (!language) {
      return { admitted: false, reason: `language ${job.request.language} is not available on this worker` };
    }
    const judgeLanguages: JudgeLanguages = {};
    for (const role of ["checker", "interactor"] as const) {
      const id = job.request[role]?.language;
      if (id === undefined) continue;
      judgeLanguages[role] = this.languages.get(id);
      if (!judgeLanguages[role]) {
        return { admitted: false, reason: `${role} language ${id} is not available on this worker` };
      }
    }
    if (job.maxRunningJobs === 0) return { admitted: true, language, judgeLanguages };
    const now = Date.now();
    const leaseMs =
      runningLeaseMs(job.request, language, this.settings.limits, this.settings.lockDurationMs) +
      judgeLeaseMs(job.request, judgeLanguages, this.settings.limits);
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
      ? { admitted: true, language, judgeLanguages }
      : { admitted: false, reason: `API key ${job.keyId} runs ${job.maxRunningJobs} jobs already` };
  }

  /**
   * The job is running: it no longer counts as queued for its key's fair share and quota. Added to
   * the caller's pipeline, which goes out with the job's other start-up commands in one write.
   */
  started(pipeline: ChainableCommander, jobId: string, job: QueuedJob): void {
    pipeline.srem(this.keys.queuedByKey(job.keyId, job.band), jobId);
  }

  async finished(jobId: string, job: QueuedJob): Promise<void> {
    if (job.maxRunningJobs > 0) await this.redis.zrem(this.keys.runningByKey(job.keyId), jobId);
  }
}
