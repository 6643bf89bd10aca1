import { QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { QUEUE_NAME } from "../contract/queue.ts";

// POST /run must not poll: it subscribes to BullMQ's event stream (QueueEvents, one blocking XREAD
// per API process) and wakes the waiting request as soon as its job completes, fails or is removed.
// BullMQ writes the event in the same Lua script that stores the result, so a waiter that then reads
// the job always sees the final state.

/** What woke a waiter: a completion carries the job's return value (BullMQ puts it in the event). */
export type Wakeup =
  | { event: "completed"; returnvalue: unknown } // already parsed by QueueEvents
  | { event: "failed" | "removed" | "timeout" | "done" };
type Wake = (wakeup: Wakeup) => void;

export class CompletionWaiter {
  private readonly waiters = new Map<string, Set<Wake>>();
  private readonly events: QueueEvents;
  private readonly connection: Redis;

  /** `connection` becomes the waiter's own (closed with it): a duplicate of the API's connection. */
  constructor(connection: Redis, prefix: string, log: Logger) {
    this.connection = connection;
    // QueueEvents reads on its own duplicate and reports its failures below; without a listener
    // here, ioredis prints "Unhandled error event" for every reconnect attempt while Redis is down.
    this.connection.on("error", () => {});
    this.events = new QueueEvents(QUEUE_NAME, { connection: this.connection, prefix });
    const wake = (jobId: string, wakeup: Wakeup) => {
      for (const fn of this.waiters.get(jobId) ?? []) fn(wakeup);
    };
    this.events.on("completed", ({ jobId, returnvalue }) => wake(jobId, { event: "completed", returnvalue }));
    this.events.on("failed", ({ jobId }) => wake(jobId, { event: "failed" }));
    this.events.on("removed", ({ jobId }) => wake(jobId, { event: "removed" }));
    // The stream is read again from the last event seen once the connection is back, so no
    // completion is lost; until then waiters are not woken, and a POST /run may answer 202 at its
    // timeout. Say so, with the waiters it concerns.
    this.events.on("error", (error) =>
      log.error(
        { err: error, waiting: this.waiters.size },
        "completion event stream failed; waiting requests are woken when it reconnects or at their timeout",
      ),
    );
  }

  async ready(): Promise<void> {
    await this.events.waitUntilReady();
  }

  /**
   * Resolves when the job's state may have become final, or after timeoutMs. Register first, then
   * check the current state (`isDone`), so a job finishing in between is never missed.
   */
  async wait(jobId: string, timeoutMs: number, isDone: () => Promise<boolean>): Promise<Wakeup> {
    const watch = this.watch(jobId);
    try {
      const woken = watch.wakeup(timeoutMs);
      if (await isDone()) return { event: "done" };
      return await woken;
    } finally {
      watch.dispose();
    }
  }

  /**
   * Registers for a job's end before the job exists (POST /run knows its id before enqueueing),
   * so no completion can be missed and no read of the job's state is needed to find out.
   */
  watch(jobId: string): { wakeup: (timeoutMs: number) => Promise<Wakeup>; dispose: () => void } {
    let wake: Wake = () => undefined;
    const woken = new Promise<Wakeup>((resolve) => {
      wake = resolve;
    });
    const set = this.waiters.get(jobId) ?? new Set<Wake>();
    set.add(wake);
    this.waiters.set(jobId, set);
    let timer: NodeJS.Timeout | undefined;
    return {
      wakeup: (timeoutMs) => {
        timer = setTimeout(() => wake({ event: "timeout" }), timeoutMs);
        return woken;
      },
      dispose: () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(jobId);
      },
    };
  }

  async close(): Promise<void> {
    await this.events.close();
    this.connection.disconnect();
  }
}
