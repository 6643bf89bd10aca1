import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { LIVE_CLOSE, LiveClientMessageSchema } from "../contract/live-protocol.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import type { Caller } from "./api-keys.ts";
import type { AppDeps } from "./app-deps.ts";
import { type LiveProtocol, serveSocket } from "./live-socket-server.ts";

// Our WebSocket protocol at /ws (contract/live-protocol.ts): init with a job request, then stdin,
// eof and signals; every job event comes back as {type:"event", id, event}. Limits:
// LIVE_INIT_TIMEOUT_MS for init, LIVE_IDLE_TIMEOUT_MS without a message either way,
// LIVE_MESSAGE_BYTES per message (ws closes with 1009), LIVE_STREAMS_PER_KEY open streams.

export function serveLiveSocket(deps: AppDeps, ws: WebSocket, caller: Caller, log: Logger): void {
  const protocol: LiveProtocol = {
    initTimeoutMs: deps.config.api.LIVE_INIT_TIMEOUT_MS,
    close: LIVE_CLOSE,
    requestOf: (body) => body,
    parse(text) {
      const message = parseJsonWith(LiveClientMessageSchema, text);
      if (!message)
        return {
          kind: "refuse",
          close: LIVE_CLOSE.invalid,
          code: "E_VALIDATION",
          message: "not a message of the /ws protocol",
        };
      return message.type === "init"
        ? { kind: "init", body: message.request }
        : { kind: "input", input: message };
    },
    submitted: async () => [],
    render: ({ id, event }) => [{ type: "event", id, event }],
    error: (code, message) => ({ type: "error", error: { code, message } }),
  };
  serveSocket(deps, ws, caller, log, protocol);
}
