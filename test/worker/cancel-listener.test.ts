import pino from "pino";
import { describe, expect, it } from "vitest";
import { CancelListener } from "../../worker/cancel-listener.ts";
import { eventually } from "../helpers/eventually.ts";
import { redisClientForFile } from "../helpers/redis.ts";

// Regression (found by the chaos run): a job cancelled while the worker's cancel subscriber was
// disconnected (Redis restarted) kept running to its wall-time limit, because pub/sub drops
// messages sent while a subscriber is away. On reconnect the listener now reads the cancel marks
// of its running jobs.

const redis = redisClientForFile();

const markKey = (jobId: string) => `test:cancelled:${jobId}`;

describe("cancel listener", () => {
  it("a running job whose cancel was published while the subscriber was away is aborted when it reconnects", async () => {
    const subscriber = redis.client.duplicate();
    const listener = await CancelListener.start(
      subscriber,
      "test:cancel",
      pino({ level: "silent" }),
      async (ids) => {
        const marks = await Promise.all(ids.map((id) => redis.client.exists(markKey(id))));
        return ids.filter((_, index) => marks[index] === 1);
      },
    );
    try {
      const cancelled = listener.register("job-a");
      const untouched = listener.register("job-b");
      // The connection drops; meanwhile DELETE /jobs/job-a sets the mark (its message is lost).
      subscriber.disconnect(true);
      await redis.client.set(markKey("job-a"), "1");
      await eventually(() => cancelled.signal.aborted, { what: "job-a aborted after the reconnect" });
      expect(untouched.signal.aborted).toBe(false);
    } finally {
      listener.close();
    }
  });

  it("a cancel published on the channel aborts the registered job at once", async () => {
    const subscriber = redis.client.duplicate();
    const listener = await CancelListener.start(
      subscriber,
      "test:cancel2",
      pino({ level: "silent" }),
      async () => [],
    );
    try {
      const controller = listener.register("job-c");
      await redis.client.publish("test:cancel2", "job-c");
      await eventually(() => controller.signal.aborted, { what: "job-c aborted" });
    } finally {
      listener.close();
    }
  });
});
