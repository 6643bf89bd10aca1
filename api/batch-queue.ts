import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { ApiSettings, QueueConfig, WebhookConfig } from "../config/load-config.ts";
import { type BatchCounts, type BatchRecord, BatchRecordSchema, type BatchView } from "../contract/batch.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JobStatus, JobView } from "../contract/job-result.ts";
import { GONE_JOB_ERROR } from "../contract/job-status.ts";
import {
  COMPLETIONS_QUEUE_NAME,
  type CompletionData,
  QUEUE_NAME,
  type QueuedJob,
  redisKeys,
} from "../contract/queue.ts";
import type { Caller } from "./api-keys.ts";
import { callbackView, completionJobOptions } from "./completion-jobs.ts";
import { releaseReservations, reservePriorities } from "./fair-priority.ts";
import type { JobQueue } from "./job-queue.ts";

// Batches are BullMQ flows: one parent `batch-<id>` in the completions queue, the batch's jobs as
// its children in the jobs queue, all added in one atomic FlowProducer call (all or nothing).
// BullMQ releases the parent when the last child finishes — completed, failed (ignored
// dependency) or removed by a cancel — and completion-worker.ts then marks the batch finished and
// delivers its webhook. The batch record keeps the job ids in request order, for paging.
// Counts are read from the jobs' states (never counted separately), so a job re-run after a
// worker crash is still counted once. A job that is gone (its record expired or was removed) is
// shown and counted as failed with GONE_JOB_ERROR (contract/job-status.ts says why).

/** A batch record outlives its jobs' results by a day: a finished batch never vanishes before them. */
const RECORD_EXTRA_TTL_S = 86_400;

export interface BatchQueueSettings {
  queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">;
  api: Pick<ApiSettings, "QUOTA_RETRY_AFTER_S">;
  webhooks: Pick<WebhookConfig, "WEBHOOK_ATTEMPTS" | "WEBHOOK_BACKOFF_MS">;
}

export class BatchQueue {
  private readonly keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly settings: BatchQueueSettings,
    private readonly jobs: JobQueue,
  ) {
    this.keys = redisKeys(settings.queue.QUEUE_PREFIX);
  }

  async create(requests: JobRequest[], caller: Caller, callbackUrl: string | undefined): Promise<string> {
    const batchId = randomUUID();
    const ids = requests.map(() => randomUUID());
    await this.jobs.backpressure.assertRoom(ids.length);
    const priorities = await reservePriorities(this.redis, this.settings, caller, "batch", ids);
    try {
      await this.writeRecord(batchId, ids, caller.keyId, callbackUrl);
      await this.addFlow(batchId, requests, ids, priorities, caller, callbackUrl);
      this.jobs.backpressure.noteEnqueued(ids.length);
    } catch (error) {
      await releaseReservations(this.redis, this.settings.queue.QUEUE_PREFIX, caller.keyId, "batch", ids);
      await this.redis.del(this.keys.batch(batchId), this.keys.batchJobs(batchId));
      throw error;
    }
    return batchId;
  }

  private async writeRecord(batchId: string, ids: string[], keyId: string, callbackUrl: string | undefined) {
    const ttlS = this.settings.queue.RESULT_TTL_S + RECORD_EXTRA_TTL_S;
    const record: Record<string, string> = {
      keyId,
      createdAt: new Date().toISOString(),
      total: String(ids.length),
    };
    if (callbackUrl) record.callbackUrl = callbackUrl;
    await this.redis
      .multi()
      .hset(this.keys.batch(batchId), record)
      .rpush(this.keys.batchJobs(batchId), ...ids)
      .expire(this.keys.batch(batchId), ttlS)
      .expire(this.keys.batchJobs(batchId), ttlS)
      .exec();
  }

  private async addFlow(
    batchId: string,
    requests: JobRequest[],
    ids: string[],
    priorities: number[],
    caller: Caller,
    callbackUrl: string | undefined,
  ) {
    const parent: CompletionData = { kind: "batch", ownerId: batchId, keyId: caller.keyId, url: callbackUrl };
    await this.jobs.flows.add({
      name: "batch",
      queueName: COMPLETIONS_QUEUE_NAME,
      data: parent,
      opts: completionJobOptions(this.settings, `batch-${batchId}`, callbackUrl !== undefined),
      children: requests.map((request, i) => {
        const data: QueuedJob = {
          request,
          keyId: caller.keyId,
          band: "batch",
          maxRunningJobs: caller.limits.maxRunningJobs,
          batchId,
        };
        return {
          name: "job",
          queueName: QUEUE_NAME,
          data,
          opts: this.jobs.jobOptions(ids[i] ?? "", priorities[i] ?? 0),
        };
      }),
    });
  }

  /** The batch's record, or null when it is unknown, expired or another key's. */
  async record(batchId: string, callerKeyId: string): Promise<BatchRecord | null> {
    const raw = await this.redis.hgetall(this.keys.batch(batchId));
    if (raw.keyId !== callerKeyId) return null;
    return BatchRecordSchema.parse(raw);
  }

  /** Status of every job in request order, from the queue's own state. */
  async statuses(batchId: string): Promise<{ ids: string[]; statuses: JobStatus[] }> {
    const ids = await this.redis.lrange(this.keys.batchJobs(batchId), 0, -1);
    const statuses = (await this.jobs.statuses(ids)).map((status) => status ?? "failed");
    return { ids, statuses };
  }

  async view(batchId: string, callerKeyId: string, offset: number, limit: number): Promise<BatchView | null> {
    const record = await this.record(batchId, callerKeyId);
    if (!record) return null;
    const { ids, statuses } = await this.statuses(batchId);
    const counts: BatchCounts = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const status of statuses) counts[status] += 1;
    const page = await Promise.all(
      ids.slice(offset, offset + limit).map(async (id, i) => {
        const view: JobView = (await this.jobs.view(id)) ?? {
          id,
          status: "failed",
          error: { ...GONE_JOB_ERROR },
        };
        return { index: offset + i, ...view };
      }),
    );
    const view: BatchView = {
      id: batchId,
      status: counts.queued + counts.running === 0 ? "finished" : "running",
      total: record.total,
      counts,
      createdAt: record.createdAt,
      jobs: page,
      offset,
      limit,
    };
    if (record.callbackUrl) {
      const callback = await callbackView(
        this.redis,
        this.settings.queue.QUEUE_PREFIX,
        this.jobs.completions,
        `batch-${batchId}`,
      );
      if (callback) view.callback = callback;
    }
    return view;
  }

  /** Cancels every job of the batch that has not finished; returns how many that were. */
  async cancel(batchId: string, callerKeyId: string): Promise<number | null> {
    const record = await this.record(batchId, callerKeyId);
    if (!record) return null;
    const { ids, statuses } = await this.statuses(batchId);
    const unfinished = ids.filter((_, i) => statuses[i] === "queued" || statuses[i] === "running");
    await this.jobs.cancelUnfinished(unfinished);
    return unfinished.length;
  }
}
