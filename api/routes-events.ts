import { type NextFunction, type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import { ServiceError } from "../contract/errors.ts";
import type { JobEventEntry } from "../contract/job-events.ts";
import { streamIdPattern } from "../redis/job-event-log.ts";
import type { AppDeps } from "./app-deps.ts";
import { callerOf } from "./auth.ts";
import { type EventSink, followJobEvents } from "./job-event-stream.ts";
import { jobIdPattern } from "./job-queue.ts";
import { acceptSubmission } from "./routes-jobs.ts";

// Server-Sent Events: GET /jobs/:id/events, and POST /run?stream=1 (submit, then the same
// stream). Each event is `id: <stream id>`, `event: <type>`, `data: <JobEvent JSON>`; a client
// reconnecting with Last-Event-ID (or ?lastEventId=) gets every event after that id, once. The
// response ends after job.finished or job.failed; a finished job replays its events.

export function eventRoutes(deps: AppDeps): Router {
  const { config, jobs, streams, redis } = deps;
  const router = Router();

  /** A place among the key's streams (429 E_TOO_MANY_STREAMS when it has none left). */
  const takePlace = (res: Response) => {
    const controller = new AbortController();
    return { controller, place: streams.open(callerOf(res).keyId, () => controller.abort()) };
  };

  const serve = async (
    res: Response,
    jobId: string,
    afterId: string,
    headers: Record<string, string> = {},
    { controller, place } = takePlace(res),
  ) => {
    res.on("close", () => controller.abort());
    res.status(200).set({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      // A stream ends with the job: no keep-alive socket left behind to hold a closing server.
      connection: "close",
      ...headers,
    });
    res.flushHeaders();
    try {
      const follow = { redis, jobs, prefix: config.queue.QUEUE_PREFIX };
      await followJobEvents(
        follow,
        jobId,
        afterId,
        sseSink(res, config.api.STREAM_DRAIN_TIMEOUT_MS),
        controller.signal,
      );
    } catch (error) {
      (res.locals.log as Logger).warn({ err: error, jobId }, "event stream failed");
    } finally {
      place.release();
      res.end();
    }
  };

  router.get("/jobs/:id/events", async (req: Request<{ id: string }>, res: Response) => {
    const id = req.params.id;
    if (!jobIdPattern.test(id) || !(await jobs.view(id, callerOf(res).keyId)))
      throw new ServiceError("E_JOB_NOT_FOUND", id);
    await serve(res, id, lastEventId(req));
  });

  router.post("/run", async (req: Request, res: Response, next: NextFunction) => {
    if (req.query.stream === undefined) return next();
    if (req.query.stream !== "1")
      throw new ServiceError("E_VALIDATION", "stream: must be 1 (or absent)", { field: "stream" });
    const { request, options } = await acceptSubmission(deps, req, res, "interactive");
    // The place first: a key with no place left is refused before a job is queued that nobody
    // would hear of (it was submitted, then answered 429: found by the stream-abuse tests).
    const held = takePlace(res);
    let id: string;
    try {
      id = await jobs.submit(request, options);
    } catch (error) {
      held.place.release();
      throw error;
    }
    (res.locals.log as Logger).info(
      { jobId: id, band: "interactive", language: request.language },
      "job submitted",
    );
    await serve(res, id, "0-0", { location: `/jobs/${id}`, "x-job-id": id }, held);
  });

  return router;
}

function lastEventId(req: Request): string {
  const raw = req.get("last-event-id") ?? req.query.lastEventId;
  if (raw === undefined) return "0-0";
  if (typeof raw !== "string" || !streamIdPattern.test(raw))
    throw new ServiceError(
      "E_VALIDATION",
      "Last-Event-ID: must be an event id this stream sent (<ms>-<seq>)",
      {
        field: "Last-Event-ID",
      },
    );
  return raw;
}

/**
 * Writes SSE frames; each resolves once the socket has room again, or is gone. A client that takes
 * nothing for drainTimeoutMs while a frame waits is cut off (see sendAndWait in live-session.ts).
 */
function sseSink(res: Response, drainTimeoutMs: number): EventSink {
  const write = async (text: string) => {
    if (res.write(text) || res.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => res.destroy(), drainTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  };
  return {
    event: ({ id, event }: JobEventEntry) =>
      write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
    idle: () => write(": idle\n\n"),
  };
}
