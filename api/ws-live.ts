import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { ServiceError } from "../contract/errors.ts";
import { isFinalEvent } from "../contract/job-events.ts";
import { LIVE_CLOSE, LiveClientMessageSchema } from "../contract/live-protocol.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import type { Caller } from "./api-keys.ts";
import type { AppDeps } from "./app-deps.ts";
import { handleInOrder, LiveSession, sendAndWait } from "./live-session.ts";

// Our WebSocket protocol at /ws (contract/live-protocol.ts): init with a job request, then stdin,
// eof and signals; every job event comes back as it happens. Limits: LIVE_INIT_TIMEOUT_MS for
// init, LIVE_IDLE_TIMEOUT_MS without a message either way, LIVE_MESSAGE_BYTES per message (ws
// closes with 1009), LIVE_STREAMS_PER_KEY open streams.

export function serveLiveSocket(deps: AppDeps, ws: WebSocket, caller: Caller, log: Logger): void {
  const { api } = deps.config;
  const session = new LiveSession(deps, caller, log);
  let started = false;
  const fail = async (code: number, error: { code: string; message: string }) => {
    if (ws.readyState !== ws.OPEN) return;
    await sendAndWait(ws, { type: "error", error });
    ws.close(code, error.code);
  };
  const initTimer = setTimeout(
    () =>
      void fail(LIVE_CLOSE.initTimeout, {
        code: "E_INIT_TIMEOUT",
        message: `no init within ${api.LIVE_INIT_TIMEOUT_MS} ms`,
      }),
    api.LIVE_INIT_TIMEOUT_MS,
  );
  let idleTimer: NodeJS.Timeout | undefined;
  const active = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () =>
        void fail(LIVE_CLOSE.idleTimeout, {
          code: "E_IDLE",
          message: `no message for ${api.LIVE_IDLE_TIMEOUT_MS} ms`,
        }),
      api.LIVE_IDLE_TIMEOUT_MS,
    );
  };
  active();

  const start = async (body: unknown) => {
    started = true;
    clearTimeout(initTimer);
    const request = session.validate(body);
    await session.run(
      request,
      async (entry) => {
        active();
        await sendAndWait(ws, { type: "event", id: entry.id, event: entry.event });
        if (isFinalEvent(entry.event)) ws.close(LIVE_CLOSE.finished, "job finished");
      },
      () => ws.terminate(),
    );
  };

  const handle = async (text: string) => {
    active();
    const message = parseJsonWith(LiveClientMessageSchema, text);
    if (!message)
      return fail(LIVE_CLOSE.invalid, { code: "E_VALIDATION", message: "not a message of the /ws protocol" });
    if (message.type === "init") {
      if (started)
        return fail(LIVE_CLOSE.alreadyInitialized, {
          code: "E_ALREADY_INITIALIZED",
          message: "init was already sent",
        });
      // Not awaited: the run lasts until the job ends, and stdin must flow meanwhile.
      start(message.request).catch((error) => void failWith(error));
      return;
    }
    if (!started)
      return fail(LIVE_CLOSE.notInitialized, { code: "E_NOT_INITIALIZED", message: "send init first" });
    await session.input(message);
  };

  const failWith = (error: unknown) => {
    if (error instanceof ServiceError) {
      const code = error.code === "E_TOO_MANY_STREAMS" ? LIVE_CLOSE.tooManyStreams : LIVE_CLOSE.invalid;
      return fail(error.status >= 500 ? LIVE_CLOSE.unavailable : code, {
        code: error.code,
        message: error.message,
      });
    }
    log.error({ err: error }, "live socket failed");
    return fail(LIVE_CLOSE.unavailable, { code: "E_INTERNAL", message: "internal error" });
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
