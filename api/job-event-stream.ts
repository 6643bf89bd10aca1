import type { Redis } from "ioredis";
import { isFinalEvent, type JobEvent, type JobEventEntry, jobEventKeys } from "../contract/job-events.ts";
import { readJobEvents } from "../redis/job-event-log.ts";
import type { JobQueue } from "./job-queue.ts";

// Follows a job's event stream (contract/job-events.ts) for one client, from any API process.
// One blocking XREAD at a time on a connection of the client's own; the next read starts only
// after the client has taken what the last one gave (the sink resolves when the socket has
// room), so a slow reader leaves its events in Redis, not in this process. The stream ends with
// job.finished or job.failed. When nothing arrives for IDLE_CHECK_MS the job's state is read: a
// job that ended without a final event in its stream (the stream expired, the job was removed,
// cancelled while queued) ends the stream with one made from that state.

export const IDLE_CHECK_MS = 5000;
const ENTRIES_PER_READ = 100;

export interface EventSink {
  /** Resolves once the client can take more. */
  event(entry: JobEventEntry): Promise<void>;
  /** Nothing happened for a while (an SSE comment keeps proxies from closing the connection). */
  idle(): Promise<void>;
}

export async function followJobEvents(
  deps: { redis: Redis; jobs: JobQueue; prefix: string },
  jobId: string,
  afterId: string,
  sink: EventSink,
  signal: AbortSignal,
): Promise<void> {
  const key = jobEventKeys(deps.prefix).events(jobId);
  const connection = deps.redis.duplicate();
  const cut = () => connection.disconnect();
  signal.addEventListener("abort", cut, { once: true });
  connection.on("error", () => {}); // a cut connection; the read in flight rejects
  let last = afterId;
  // The first read, and each after a backlog, does not block: once it has caught up with the log,
  // the job's state is read, so a job that ended without a final event (cancelled while queued)
  // ends its stream at once instead of after IDLE_CHECK_MS (found by the request fuzzer).
  let blocking = false;
  try {
    while (!signal.aborted) {
      const read = await readJobEvents(connection, key, last, {
        count: ENTRIES_PER_READ,
        ...(blocking ? { blockMs: IDLE_CHECK_MS } : {}),
      });
      for (const entry of read.entries) {
        await sink.event(entry);
        if (isFinalEvent(entry.event)) return;
      }
      const caughtUp = read.entries.length < ENTRIES_PER_READ;
      if (caughtUp && (read.lastId === last || !blocking)) {
        const end = await endFromState(deps.jobs, jobId);
        if (end) {
          // The worker appends a job's last events before it marks the job ended, so events that
          // arrived between the read above and the state read are in the log now: they go first.
          if (!(await hasEventsAfter(connection, key, read.lastId)))
            return await sink.event({ id: read.lastId, event: end });
          blocking = false;
          last = read.lastId;
          continue;
        }
        if (blocking) await sink.idle();
      }
      blocking = caughtUp;
      last = read.lastId;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener("abort", cut);
    connection.disconnect();
  }
}

async function hasEventsAfter(connection: Redis, key: string, afterId: string): Promise<boolean> {
  return (await readJobEvents(connection, key, afterId, { count: 1 })).entries.length > 0;
}

/** The final event of a job that has ended, from its state; null while it has not. */
async function endFromState(jobs: JobQueue, jobId: string): Promise<JobEvent | null> {
  const view = await jobs.view(jobId);
  if (!view)
    return { type: "job.failed", error: { code: "E_JOB_NOT_FOUND", message: `job ${jobId} is gone` } };
  switch (view.status) {
    case "queued":
    case "running":
      return null;
    case "completed":
      return view.result ? { type: "job.finished", result: view.result } : null;
    case "cancelled":
      return { type: "job.failed", error: { code: "E_JOB_CANCELLED", message: "the job was cancelled" } };
    case "failed":
      return { type: "job.failed", error: view.error ?? { code: "E_JOB_FAILED", message: "the job failed" } };
  }
}
