import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { CANCELLED_REASON } from "../contract/job-status.ts";

// Cancellation of running jobs: DELETE /jobs/:id sets a cancel mark, then publishes the job id on
// the cancel channel; every worker listens, and the one running the job aborts its controller,
// which kills the running sandbox. A job registers here before it checks the mark, so a cancel is
// seen either by that check or by this listener. A cancel published while the subscriber is
// disconnected (Redis restarted, network blip) is lost to pub/sub; so each time the subscriber is
// ready again, the marks of the jobs running here are read and the marked ones aborted. (Found by
// the chaos run: a job cancelled while Redis restarted kept running to its wall-time limit.)

/** Which of these job ids carry a cancel mark. */
export type ReadCancelMarks = (jobIds: string[]) => Promise<string[]>;

export class CancelListener {
  private readonly controllers = new Map<string, AbortController>();

  private constructor(private readonly subscriber: Redis) {}

  /** `subscriber` becomes the listener's own connection (a duplicate of the worker's). */
  static async start(
    subscriber: Redis,
    channel: string,
    log: Logger,
    readMarks: ReadCancelMarks,
  ): Promise<CancelListener> {
    const listener = new CancelListener(subscriber);
    subscriber.on("error", (error) =>
      log.warn(
        { err: error, channel },
        "cancel channel connection failed; running jobs are checked for cancel marks when it is back",
      ),
    );
    // ioredis resubscribes by itself on reconnect; "ready" follows every (re)connect (on the first
    // one nothing runs yet, so nothing is read).
    subscriber.on("ready", () => {
      const running = [...listener.controllers.keys()];
      if (running.length === 0) return;
      readMarks(running).then(
        (marked) => {
          for (const jobId of marked) listener.abort(jobId, CANCELLED_REASON);
        },
        (error: Error) => log.warn({ err: error }, "reading cancel marks after a reconnect failed"),
      );
    });
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
