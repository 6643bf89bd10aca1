// Fair priorities and the queued-jobs quota (api/fair-priority.ts) against a real Redis.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Caller } from "../../api/api-keys.ts";
import { releaseReservations, reservePriorities } from "../../api/fair-priority.ts";
import { ServiceError } from "../../contract/errors.ts";
import { PRIORITY_BATCH, PRIORITY_INTERACTIVE } from "../../contract/queue.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";

let redis: TestRedis;
let client: Redis;
let prefix: string;

const settings = () => ({
  queue: { QUEUE_PREFIX: prefix, RESULT_TTL_S: 600 },
  api: { QUOTA_RETRY_AFTER_S: 7 },
});
const caller = (keyId: string, maxQueuedJobs = 0): Caller => ({
  keyId,
  limits: { requestsPerMinute: 0, maxRunningJobs: 0, maxQueuedJobs, ceilings: {} },
});
const ids = (n: number) => Array.from({ length: n }, () => randomUUID());

beforeAll(async () => {
  redis = await startTestRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe("fair priorities", () => {
  it("a key's jobs take consecutive positions in their band; another key starts at the band's base", async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const a = await reservePriorities(client, settings(), caller("A"), "batch", ids(3));
    const more = await reservePriorities(client, settings(), caller("A"), "batch", ids(2));
    const b = await reservePriorities(client, settings(), caller("B"), "batch", ids(1));
    expect(a).toEqual([PRIORITY_BATCH, PRIORITY_BATCH + 1, PRIORITY_BATCH + 2]);
    expect(more).toEqual([PRIORITY_BATCH + 3, PRIORITY_BATCH + 4]);
    // B's first job ties with A's first: keys take turns instead of B waiting behind A's backlog.
    expect(b).toEqual([PRIORITY_BATCH]);
  });

  it("interactive jobs always rank before batch jobs, however long the interactive backlog", async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const first = await reservePriorities(client, settings(), caller("A"), "interactive", ids(1));
    expect(first).toEqual([PRIORITY_INTERACTIVE]);
    const long = await reservePriorities(
      client,
      settings(),
      caller("A"),
      "interactive",
      ids(PRIORITY_BATCH + 5),
    );
    expect(Math.max(...long)).toBe(PRIORITY_BATCH - 1);
  });

  it("the queued-jobs quota counts both bands and refuses what would pass it, with Retry-After", async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    await reservePriorities(client, settings(), caller("Q", 3), "interactive", ids(1));
    await reservePriorities(client, settings(), caller("Q", 3), "batch", ids(1));
    const refused = await reservePriorities(client, settings(), caller("Q", 3), "batch", ids(2)).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ServiceError);
    const error = refused as ServiceError;
    expect(error.code).toBe("E_QUOTA_EXCEEDED");
    expect(error.details).toEqual({ maxQueuedJobs: 3, queued: 2, submitted: 2 });
    expect(error.headers).toEqual({ "Retry-After": "7" });
    // Nothing of the refused submission was reserved.
    expect(await reservePriorities(client, settings(), caller("Q", 3), "batch", ids(1))).toEqual([
      PRIORITY_BATCH + 1,
    ]);
  });

  it("released reservations give back their quota and positions", async () => {
    prefix = `t${randomUUID().slice(0, 8)}`;
    const reserved = ids(2);
    await reservePriorities(client, settings(), caller("R", 2), "batch", reserved);
    await releaseReservations(client, prefix, "R", "batch", reserved);
    expect(await reservePriorities(client, settings(), caller("R", 2), "batch", ids(2))).toEqual([
      PRIORITY_BATCH,
      PRIORITY_BATCH + 1,
    ]);
  });
});
