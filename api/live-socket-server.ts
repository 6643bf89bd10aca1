import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { ServiceError } from "../contract/errors.ts";
import { isFinalEvent, type JobEventEntry, type JobInput } from "../contract/job-events.ts";
import type { Caller } from "./api-keys.ts";
import type { AppDeps } from "./app-deps.ts";
import { handleInOrder, LiveSession, sendAndWait } from "./live-session.ts";

// One live socket, whatever its protocol (ours at /ws: ws-live.ts; Piston's /api/v2/connect:
// piston-connect.ts): the init deadline, the idle deadline, messages handled in order with the
// socket paused, the job's events sent as the socket takes them, and the close that ends it. A
// protocol only parses client messages, renders events and names its close codes.

export type ClientMessage =
  | { kind: "init"; body: unknown }
  | { kind: "input"; input: JobInput }
  /** A message the protocol refuses: close with this code after saying why. */
  | { kind: "refuse"; close: number; code: string; message: string };

export interface LiveProtocol {
  initTimeoutMs: number;
  close: {
    finished: number;
    alreadyInitialized: number;
    initTimeout: number;
    invalid: number;
    notInitialized: number;
    idleTimeout: number;
    tooManyStreams: number;
    unavailable: number;
  };
  /** Turns a request the protocol's init carries into our job request body (or throws ServiceError). */
  requestOf(body: unknown): unknown;
  parse(text: string): ClientMessage;
  /** Messages to send once the job is submitted (Piston's runtime message). */
  submitted(request: { language: string }): Promise<unknown[]>;
  /** Messages for one event (none, one or more). */
  render(entry: JobEventEntry): unknown[];
  /** The message sent before a close that is not the normal end. */
  error(code: string, message: string): unknown;
}

export function serveSocket(
  deps: AppDeps,
  ws: WebSocket,
  caller: Caller,
  log: Logger,
  protocol: LiveProtocol,
): void {
  const { api } = deps.config;
  const { close } = protocol;
  const session = new LiveSession(deps, caller, log);
  const send = (message: unknown) => sendAndWait(ws, message, api.STREAM_DRAIN_TIMEOUT_MS);
  let started = false;
  const fail = async (code: number, errorCode: string, message: string) => {
    if (ws.readyState !== ws.OPEN) return;
    await send(protocol.error(errorCode, message));
    ws.close(code, errorCode);
  };
  const initTimer = setTimeout(
    () => void fail(close.initTimeout, "E_INIT_TIMEOUT", `no init within ${protocol.initTimeoutMs} ms`),
    protocol.initTimeoutMs,
  );
  let idleTimer: NodeJS.Timeout | undefined;
  const active = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => void fail(close.idleTimeout, "E_IDLE", `no message for ${api.LIVE_IDLE_TIMEOUT_MS} ms`),
      api.LIVE_IDLE_TIMEOUT_MS,
    );
  };
  active();

  const sendEvent = async (entry: JobEventEntry) => {
    active();
    for (const message of protocol.render(entry)) await send(message);
    if (isFinalEvent(entry.event)) ws.close(close.finished, "job finished");
  };

  const start = async (body: unknown) => {
    started = true;
    clearTimeout(initTimer);
    const request = session.validate(protocol.requestOf(body));
    for (const message of await protocol.submitted(request)) await send(message);
    await session.run(request, sendEvent, () => ws.terminate());
  };

  const failWith = (error: unknown) => {
    if (error instanceof ServiceError) {
      const code = error.code === "E_TOO_MANY_STREAMS" ? close.tooManyStreams : close.invalid;
      return fail(error.status >= 500 ? close.unavailable : code, error.code, error.message);
    }
    log.error({ err: error }, "live socket failed");
    return fail(close.unavailable, "E_INTERNAL", "internal error");
  };

  const handle = async (text: string) => {
    // Not idle while a message is held (input backpressure waits on the program, not the client).
    clearTimeout(idleTimer);
    try {
      await handleMessage(text);
    } finally {
      active();
    }
  };

  const handleMessage = async (text: string) => {
    const message = protocol.parse(text);
    if (message.kind === "refuse") return fail(message.close, message.code, message.message);
    if (message.kind === "init") {
      if (started) return fail(close.alreadyInitialized, "E_ALREADY_INITIALIZED", "init was already sent");
      // Not awaited: the run lasts until the job ends, and input must flow meanwhile.
      start(message.body).catch((error) => void failWith(error));
      return;
    }
    if (!started) return fail(close.notInitialized, "E_NOT_INITIALIZED", "send init first");
    await session.input(message.input);
  };

  handleInOrder(ws, handle, (error) => void failWith(error));
  // Protocol errors (a message above LIVE_MESSAGE_BYTES: ws closes with 1009 itself).
  ws.on("error", (error) => log.debug({ err: error }, "live socket error"));
  ws.on("close", () => {
    clearTimeout(initTimer);
    clearTimeout(idleTimer);
    void session.close();
  });
}
