import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import type { BatchCounts, BatchView } from "../contract/batch.ts";
import type { JobRequest } from "../contract/job-request.ts";
import type { JobStatus } from "../contract/job-result.ts";
import { COMPLETIONS_QUEUE_NAME, QUEUE_NAME, type QueuedJob, redisKeys } from "../contract/queue.ts";
import type { Caller } from "./api-keys.ts";
import { type CompletionData, callbackView, completionJobOptions } from "./completion-jobs.ts";
import { releaseReservations, reservePriorities } from "./fair-priority.ts";
import type { JobQueue } from "./job-queue.ts";

// Batches are BullMQ flows: one parent `batch-<id>` in the completions queue, the batch's jobs as
// its children in the jobs queue, all added in one atomic FlowProducer call (all or nothing).
// BullMQ releases the parent when the last child finishes — completed, failed (ignored
// dependency) or removed by a cancel — and completion-worker.ts then marks the batch finished and
// delivers its webhook. The batch record keeps the job ids in request order, for paging.
// Counts are read from the jobs' states (never counted separately), so a job re-run after a
// worker crash is still counted once.

export interface BatchRecord {
  keyId: string;
  createdAt: string;
  total: number;
  callbackUrl?: string;
  finishedAt?: string;
}

export class BatchQueue {
  private readonly keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly jobs: JobQueue,
  ) {
    this.keys = redisKeys(config.QUEUE_PREFIX);
  }

  async create(requests: JobRequest[], caller: Caller, callbackUrl: string | undefined): Promise<string> {
    const batchId = randomUUID();
    const ids = requests.map(() => randomUUID());
    await this.jobs.assertRoom(ids.length);
    const priorities = await reservePriorities(this.redis, this.config, caller, "batch", ids);
    try {
      // Kept a day longer than results: a batch record outliving its jobs reads as "expired jobs",
      // the other way round a finished batch would vanish while its results are still there.
      const ttlS = this.config.RESULT_TTL_S + 86_400;
      const record: Record<string, string> = {
        keyId: caller.keyId,
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
      const parent: CompletionData = {
        kind: "batch",
        ownerId: batchId,
        keyId: caller.keyId,
        url: callbackUrl,
      };
      await this.jobs.flows.add({
        name: "batch",
        queueName: COMPLETIONS_QUEUE_NAME,
        data: parent,
        opts: completionJobOptions(this.config, `batch-${batchId}`, callbackUrl !== undefined),
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
            opts: this.jobs.jobOptions(ids[i] as string, priorities[i] as number),
          };
        }),
      });
      this.jobs.noteEnqueued(ids.length);
    } catch (error) {
      await releaseReservations(this.redis, this.config, caller.keyId, "batch", ids);
      await this.redis.del(this.keys.batch(batchId), this.keys.batchJobs(batchId));
      throw error;
    }
    return batchId;
  }

  async record(batchId: string, callerKeyId: string): Promise<BatchRecord | null> {
    const raw = await this.redis.hgetall(this.keys.batch(batchId));
    if (!raw.keyId || raw.keyId !== callerKeyId) return null;
    return { ...(raw as unknown as BatchRecord), total: Number(raw.total) };
  }

  /** Status of every job, from the queue's own state (one pipelined round of lookups). */
  async statuses(batchId: string): Promise<{ ids: string[]; statuses: JobStatus[] }> {
    const ids = await this.redis.lrange(this.keys.batchJobs(batchId), 0, -1);
    const marks = this.redis.pipeline();
    for (const id of ids) marks.exists(this.keys.cancelled(id));
    const [states, cancelled] = await Promise.all([
      Promise.all(ids.map((id) => this.jobs.queue.getJobState(id))),
      marks.exec(),
    ]);
    const statuses = ids.map((_, i): JobStatus => {
      if (cancelled?.[i]?.[1] === 1) return "cancelled";
      switch (states[i]) {
        case "completed":
          return "completed";
        case "failed":
        case "unknown":
          return "failed";
        case "active":
          return "running";
        default:
          return "queued";
      }
    });
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
        const view = (await this.jobs.view(id)) ?? { id, status: "failed" as const };
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
      const callback = await callbackView(this.redis, this.config, this.jobs.completions, `batch-${batchId}`);
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
