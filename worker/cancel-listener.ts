import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { CANCELLED_REASON } from "../contract/job-status.ts";

// Cancellation of running jobs: DELETE /jobs/:id sets a cancel mark, then publishes the job id on
// the cancel channel; every worker listens, and the one running the job aborts its controller,
// which kills the running sandbox. A job registers here before it checks the mark, so a cancel is
// seen either by that check or by this listener.

export class CancelListener {
  private readonly controllers = new Map<string, AbortController>();

  private constructor(private readonly subscriber: Redis) {}

  /** `subscriber` becomes the listener's own connection (a duplicate of the worker's). */
  static async start(subscriber: Redis, channel: string, log: Logger): Promise<CancelListener> {
    const listener = new CancelListener(subscriber);
    // ioredis reconnects and resubscribes by itself; a cancel published while it is away is still
    // seen through the mark by a job that starts later, but a running job would miss it: say so.
    subscriber.on("error", (error) =>
      log.warn(
        { err: error, channel },
        "cancel channel connection failed; cancels of running jobs wait for it",
      ),
    );
    subscriber.on("message", (_channel: string, jobId: string) => listener.abort(jobId, CANCELLED_REASON));
    await subscriber.subscribe(channel);
    return listener;
  }

  /** A controller for a job that is starting; its signal aborts on a cancel. */
  register(jobId: string): AbortController {
    const controller = new AbortController();
    this.controllers.set(jobId, controller);
    return controller;
  }

  unregister(jobId: string): void {
    this.controllers.delete(jobId);
  }

  /** Jobs registered now (= busy slots). */
  get running(): number {
    return this.controllers.size;
  }

  /** Aborts every registered job (shutdown deadline). */
  abortAll(reason: string): void {
    for (const controller of this.controllers.values()) controller.abort(reason);
  }

  close(): void {
    this.subscriber.disconnect();
  }

  private abort(jobId: string, reason: string): void {
    this.controllers.get(jobId)?.abort(reason);
  }
}
