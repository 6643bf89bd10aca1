import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { QueueConfig } from "../config/load-config.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys } from "../contract/queue.ts";
import {
  STATUS_HISTORY_MS,
  type StatusPoint,
  type StatusSample,
  StatusSampleSchema,
} from "../contract/status.ts";
import { readStatusNow } from "./status-snapshot.ts";

// The operations page's history: every API process samples the service each
// STATUS_SAMPLE_INTERVAL_MS and writes the sample under the interval's start time with SET NX, so
// a fleet of API processes writes one sample per interval between them (the first one wins) and
// a process that restarts finds the history where it was. Samples expire after the history
// window, so nothing needs cleaning up. Reading is one MGET of the window's keys.

export function bucketStartMs(atMs: number, intervalMs: number): number {
  return atMs - (atMs % intervalMs);
}

export class StatusSampler {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly settings: Pick<QueueConfig, "QUEUE_PREFIX" | "HEARTBEAT_INTERVAL_MS">,
    private readonly intervalMs: number,
    private readonly jobsQueue: Queue,
    private readonly log: Logger,
  ) {}

  start(): void {
    const tick = () => {
      this.inFlight = this.sample();
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling; resolves once a sample in flight has finished (before Redis is closed). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** Writes this interval's sample unless another process already did. Never throws. */
  async sample(): Promise<void> {
    try {
      const { sample } = await readStatusNow(this.redis, this.settings, this.jobsQueue);
      const key = redisKeys(this.settings.QUEUE_PREFIX).statusSample(
        bucketStartMs(sample.atMs, this.intervalMs),
      );
      await this.redis.set(key, JSON.stringify(sample), "PX", STATUS_HISTORY_MS, "NX");
      this.failing = false;
    } catch (error) {
      // Once per outage: Redis being away is already logged by the connection itself.
      if (!this.failing) this.log.warn({ err: error }, "status sample failed");
      this.failing = true;
    }
  }
}

/** The samples of the history window ending at `nowMs`, oldest first. */
export async function readStatusSamples(
  redis: Redis,
  prefix: string,
  intervalMs: number,
  nowMs: number,
): Promise<StatusSample[]> {
  const keys = redisKeys(prefix);
  const names: string[] = [];
  for (let at = bucketStartMs(nowMs - STATUS_HISTORY_MS, intervalMs); at <= nowMs; at += intervalMs) {
    names.push(keys.statusSample(at));
  }
  const raws = await redis.mget(...names);
  return raws.flatMap((raw) => {
    const sample = raw === null ? null : parseJsonWith(StatusSampleSchema, raw);
    return sample ? [sample] : [];
  });
}

const sumOf = (values: Record<string, number>) => Object.values(values).reduce((sum, n) => sum + n, 0);

/** Rates and mean waits are taken over the minute before each point, so one job is not a spike. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Chart points, one per sample after the first: the sample's instantaneous values, and the job
 * rate and mean queue wait over the trailing minute (or since the oldest sample, when the history
 * is shorter). Counters go backwards only when the metrics hash was reset; such a stretch counts
 * as zero jobs rather than a negative rate.
 */
export function statusPoints(samples: readonly StatusSample[]): StatusPoint[] {
  const points: StatusPoint[] = [];
  let base = 0;
  for (let i = 1; i < samples.length; i++) {
    const after = samples[i] as StatusSample;
    while (base + 1 < i && (samples[base + 1] as StatusSample).atMs <= after.atMs - RATE_WINDOW_MS) base++;
    const before = samples[base] as StatusSample;
    const minutes = (after.atMs - before.atMs) / 60_000;
    if (minutes <= 0) continue;
    const finished = Math.max(0, sumOf(after.verdicts) - sumOf(before.verdicts));
    const started = after.queueWaitCount - before.queueWaitCount;
    const waitedS = after.queueWaitSumS - before.queueWaitSumS;
    points.push({
      atMs: after.atMs,
      queueDepth: after.queueDepth,
      busySlots: after.busySlots,
      slots: after.slots,
      jobsPerMinute: finished / minutes,
      meanQueueWaitMs: started > 0 && waitedS >= 0 ? (waitedS / started) * 1000 : null,
    });
  }
  return points;
}

/** Verdicts counted between two samples (per verdict, never negative). */
export function verdictsBetween(oldest: StatusSample, latest: StatusSample): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [verdict, count] of Object.entries(latest.verdicts)) {
    const delta = count - (oldest.verdicts[verdict] ?? 0);
    if (delta > 0) counts[verdict] = delta;
  }
  return counts;
}
