import type { Redis } from "ioredis";
import {
  JOB_EVENTS_MAX_ENTRIES,
  type JobEvent,
  type JobEventEntry,
  JobEventSchema,
} from "../contract/job-events.ts";
import { parseJsonWith } from "../contract/parse-json.ts";

// A job's events as a Redis stream (contract/job-events.ts): appended by workers (and the API's
// job.queued), read by any API process. Appends go out without waiting for the reply: one
// connection keeps them in order, and a job never waits on its own event log. Every entry is
// parsed back with the schema; an unreadable one is skipped, never trusted.

/**
 * Queues XADD (trimmed to JOB_EVENTS_MAX_ENTRIES) and, unless ttlSeconds is null (the caller set
 * it recently), EXPIRE on the connection, in order.
 */
export function appendJobEvents(
  redis: Redis,
  key: string,
  events: JobEvent[],
  ttlSeconds: number | null,
  onError: (error: Error) => void,
): void {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  for (const event of events)
    pipeline.xadd(key, "MAXLEN", "~", JOB_EVENTS_MAX_ENTRIES, "*", "e", JSON.stringify(event));
  if (ttlSeconds !== null) pipeline.expire(key, ttlSeconds);
  pipeline.exec().then((results) => {
    const failed = results?.find(([error]) => error)?.[0];
    if (failed) onError(failed);
  }, onError);
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

function entriesOf(reply: StreamReply): JobEventEntry[] {
  const out: JobEventEntry[] = [];
  for (const [id, fields] of reply?.[0]?.[1] ?? []) {
    const raw = fields[fields.indexOf("e") + 1];
    const event = raw === undefined ? null : parseJsonWith(JobEventSchema, raw);
    if (event) out.push({ id, event });
  }
  return out;
}

/**
 * Events after `afterId` ("0-0": from the start), at most `count`; with blockMs, waits up to that
 * long for the first one (a blocking read: give it a connection of its own). The id of the last
 * entry read, parsable or not, is `lastId`, so a reader never stalls on a bad entry.
 */
export async function readJobEvents(
  redis: Redis,
  key: string,
  afterId: string,
  options: { count: number; blockMs?: number },
): Promise<{ entries: JobEventEntry[]; lastId: string }> {
  const reply = (
    options.blockMs === undefined
      ? await redis.xread("COUNT", options.count, "STREAMS", key, afterId)
      : await redis.xread("COUNT", options.count, "BLOCK", options.blockMs, "STREAMS", key, afterId)
  ) as StreamReply;
  const raw = reply?.[0]?.[1] ?? [];
  return { entries: entriesOf(reply), lastId: raw.at(-1)?.[0] ?? afterId };
}

/** A stream id as a client may send it back (Last-Event-ID): "<ms>-<seq>". */
export const streamIdPattern = /^\d{1,20}-\d{1,20}$/;
