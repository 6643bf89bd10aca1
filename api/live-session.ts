import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { ServiceError } from "../contract/errors.ts";
import { type JobEventEntry, type JobInput, jobEventKeys } from "../contract/job-events.ts";
import type { JobRequest } from "../contract/job-request.ts";
import { encodedKeyOf } from "../contract/live-subprotocol.ts";
import { lowerCeilings } from "../contract/resolve-limits.ts";
import type { Caller } from "./api-keys.ts";
import type { AppDeps } from "./app-deps.ts";
import { followJobEvents } from "./job-event-stream.ts";
import { validateJobRequest } from "./validate-request.ts";

// One live run behind a WebSocket (our /ws, Piston's /api/v2/connect): the job is submitted as a
// live job, its events are followed (job-event-stream.ts) and sent as the socket takes them, and
// the client's stdin, end of input and signals go to the job's input streams in Redis, which its
// worker relays (worker/live-input.ts). Input backpressure: the socket is paused while a message
// is handled, and handling a stdin message waits while LIVE_PENDING_INPUT_ENTRIES are still
// unread by the worker, so a flooding client is held in its own TCP buffers. A client that leaves
// before the end cancels its job: nobody could type into it any more.

const INPUT_POLL_MS = 25;

export class LiveSession {
  jobId: string | null = null;
  finished = false;
  private readonly stop = new AbortController();
  private release: (() => void) | null = null;
  /** Settles once the job is submitted (or will never be): input waits for it. */
  private readonly submitted = deferred();

  constructor(
    private readonly deps: AppDeps,
    readonly caller: Caller,
    private readonly log: Logger,
  ) {}

  /** The request as POST /run would take it (ServiceError naming the field when it is not). */
  validate(body: unknown): JobRequest {
    const { config, languages } = this.deps;
    const { request, callbackUrl } = validateJobRequest(
      body,
      config.api,
      languages.definitions,
      lowerCeilings(config.limits.ceilings, this.caller.limits.ceilings),
    );
    if (callbackUrl !== undefined)
      throw new ServiceError("E_VALIDATION", "callbackUrl: not taken by a live run", {
        field: "callbackUrl",
      });
    if (request.tests !== undefined)
      throw new ServiceError(
        "E_VALIDATION",
        "tests: a live run has one run step; its stdin comes from the socket",
        {
          field: "tests",
        },
      );
    return request;
  }

  /**
   * Takes a stream place (E_TOO_MANY_STREAMS), submits the job and sends its events to onEvent
   * (which resolves when the client can take more) until the last one.
   */
  async run(request: JobRequest, onEvent: (entry: JobEventEntry) => Promise<void>, onClose: () => void) {
    const { deps } = this;
    let id: string;
    try {
      // The socket may have closed while its init was handled (close() ran already): take no place.
      if (this.stop.signal.aborted) return;
      this.release = deps.streams.open(this.caller.keyId, onClose).release;
      id = await deps.jobs.submit(request, { band: "interactive", caller: this.caller, live: true });
      this.jobId = id;
    } finally {
      this.submitted.resolve();
    }
    if (this.stop.signal.aborted) {
      // Closed while submitting: close() had no job to cancel (found by the stream-abuse tests,
      // with a place that was never given back when the close came before it was taken).
      await deps.jobs.cancel(id).catch(() => undefined);
      return;
    }
    this.log.info({ jobId: id, language: request.language }, "live job submitted");
    const follow = { redis: deps.redis, jobs: deps.jobs, prefix: deps.config.queue.QUEUE_PREFIX };
    await followJobEvents(follow, id, "0-0", { event: onEvent, idle: async () => {} }, this.stop.signal);
    this.finished = !this.stop.signal.aborted;
  }

  /** Hands one input to the job; waits while its unread stdin is at the limit. */
  async input(input: JobInput): Promise<void> {
    await this.submitted.promise;
    const id = this.jobId;
    if (id === null || this.finished) return;
    const { redis, config } = this.deps;
    const keys = jobEventKeys(config.queue.QUEUE_PREFIX);
    const key = input.type === "signal" ? keys.signals(id) : keys.input(id);
    await redis
      .multi()
      .xadd(key, "*", "i", JSON.stringify(input))
      .expire(key, config.queue.RESULT_TTL_S)
      .exec();
    if (input.type !== "stdin") return;
    while (
      !this.finished &&
      !this.stop.signal.aborted &&
      (await redis.xlen(key)) >= config.api.LIVE_PENDING_INPUT_ENTRIES
    )
      await new Promise((resolve) => setTimeout(resolve, INPUT_POLL_MS));
  }

  /** The socket is gone: stop following, give the place back, cancel the job if it still runs. */
  async close(): Promise<void> {
    this.stop.abort();
    this.submitted.resolve();
    this.release?.();
    const id = this.jobId;
    if (id === null || this.finished) return;
    await this.deps.jobs.cancel(id).catch(() => undefined); // finished meanwhile: nothing to cancel
  }
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Sends one text frame; resolves once the socket has taken it, or is gone. A client that takes
 * none of it within drainTimeoutMs (it stays connected but stopped reading, and its TCP buffers are
 * full) is cut off: it would otherwise hold its stream place and the job's events for as long as
 * it likes (STREAM_DRAIN_TIMEOUT_MS).
 */
export function sendAndWait(ws: WebSocket, data: unknown, drainTimeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      ws.off("close", done);
      resolve();
    };
    const timer = setTimeout(() => ws.terminate(), drainTimeoutMs);
    ws.on("close", done);
    ws.send(JSON.stringify(data), done);
  });
}

/**
 * Handles a socket's messages one at a time, in order, with the socket paused meanwhile: a client
 * sending faster than its messages are handled waits in its own TCP buffers.
 */
export function handleInOrder(
  ws: WebSocket,
  handle: (text: string) => Promise<void>,
  onError: (error: unknown) => void,
) {
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  ws.on("message", (data, isBinary) => {
    pending++;
    ws.pause();
    const text = isBinary ? "" : data.toString();
    chain = chain
      .then(() => handle(text))
      .catch(onError)
      .finally(() => {
        if (--pending === 0) ws.resume(); // also when closing: the close handshake needs reading
      });
  });
}

/** Who is calling, from the upgrade request's headers (as auth.ts does for HTTP); null = refuse. */
export async function callerOfUpgrade(deps: AppDeps, req: IncomingMessage): Promise<Caller | null> {
  // Bearer <key>, or the bare key Piston's clients send in Authorization.
  const raw = req.headers.authorization?.trim();
  const auth = raw ? (/^Bearer\s+(.+)$/i.exec(raw)?.[1] ?? raw) : undefined;
  const header = req.headers["x-api-key"];
  const key = auth ?? (typeof header === "string" ? header : undefined) ?? subprotocolKey(req);
  if (key === undefined) return (await deps.directory.keysRequired()) ? null : deps.directory.anonymous();
  return deps.directory.resolve(key);
}

/**
 * A browser's key, offered as a subprotocol (contract/live-subprotocol.ts). Text that is not
 * base64url gives a key no directory holds, so it is refused like any wrong key — never ignored,
 * which would fall through to the anonymous caller.
 */
function subprotocolKey(req: IncomingMessage): string | undefined {
  const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
  const encoded = encodedKeyOf(offered);
  if (encoded === undefined) return undefined;
  return /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, "base64url").toString("utf8") : "\0invalid";
}

/**
 * Answers an upgrade with an HTTP error in the contract's shape and closes the socket (was an
 * empty body, and ws's own refusals plain text: found by the request fuzzer).
 */
export function refuseUpgrade(socket: Duplex, error: ServiceError): void {
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\nconnection: close\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
