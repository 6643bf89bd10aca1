import pino from "pino";
import { describe, expect, it } from "vitest";
import { jobEventKeys } from "../../contract/job-events.ts";
import { readJobEvents } from "../../redis/job-event-log.ts";
import { JobEventWriter } from "../../worker/job-event-writer.ts";
import { commandCalls, redisClientForFile } from "../helpers/redis.ts";

// A job's events reach its stream in order, the stream always has its TTL, and the writer does not
// pay an EXPIRE for every append: one with the first, one with the final event.

const redis = redisClientForFile();

const calls = (command: string) => commandCalls(redis.client, command);

describe("the job event writer", () => {
  it("appends a job's events in order with two EXPIREs, and the stream keeps its TTL", async () => {
    const writer = new JobEventWriter(redis.client, "writer-test", "job-1", 600, pino({ level: "silent" }));
    const key = jobEventKeys("writer-test").events("job-1");
    const [xaddBefore, expireBefore] = [await calls("xadd"), await calls("expire")];
    writer.started("worker-a", 0);
    await new Promise((resolve) => setImmediate(resolve));
    writer.stepStarted({ stage: "run", test: null });
    writer.output("stdout", Buffer.from("hello "));
    await new Promise((resolve) => setImmediate(resolve));
    writer.output("stdout", Buffer.from("world"));
    writer.failed("E_JOB_CANCELLED", "cancelled");
    await redis.client.ping(); // replies come in order: everything sent before is stored

    const { entries } = await readJobEvents(redis.client, key, "0-0", { count: 100 });
    const types = entries.map(({ event }) => event.type);
    expect(types[0]).toBe("job.started");
    expect(types[1]).toBe("step.started");
    expect(types.at(-1)).toBe("job.failed");
    const output = entries.flatMap(({ event }) => (event.type === "output" ? [event.data] : [])).join("");
    expect(output).toBe("hello world");
    expect(await redis.client.ttl(key)).toBeGreaterThan(590);
    expect((await calls("xadd")) - xaddBefore).toBe(entries.length);
    expect((await calls("expire")) - expireBefore).toBe(2);
  });
});
