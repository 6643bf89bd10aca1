import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { ServiceError } from "../contract/errors.ts";
import { selectedSubprotocol } from "../contract/live-subprotocol.ts";
import type { AppDeps } from "./app-deps.ts";
import { callerOfUpgrade, refuseUpgrade } from "./live-session.ts";
import { servePistonSocket } from "./piston-connect.ts";
import { countRequest } from "./rate-limit.ts";
import { serveLiveSocket } from "./ws-live.ts";

// WebSocket upgrades on the API's HTTP server: /ws (ws-live.ts) and Piston's /api/v2/connect
// (also under /api/v2/piston/, as the public instance served it: piston-connect.ts). Anything
// else is refused. An upgrade counts against the key's requests per minute. The
// caller is authenticated from the upgrade's headers like any HTTP request (a browser, which cannot
// set headers, offers its key as a subprotocol: contract/live-subprotocol.ts); messages are capped
// at LIVE_MESSAGE_BYTES by ws itself (close 1009).

const socketRoutes = new Map<string, typeof serveLiveSocket>([
  ["/ws", serveLiveSocket],
  ["/api/v2/connect", servePistonSocket],
  ["/api/v2/piston/connect", servePistonSocket],
]);

export function attachLiveSockets(server: Server, deps: AppDeps): { close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: deps.config.api.LIVE_MESSAGE_BYTES,
    // Never echo a browser's key subprotocol back (contract/live-subprotocol.ts).
    handleProtocols: (protocols) => selectedSubprotocol(protocols),
  });
  // A handshake ws refuses (no Sec-WebSocket-Key, a bad version …): answered in our shape too.
  wss.on("wsClientError", (error: Error, socket: Duplex) =>
    refuseUpgrade(socket, new ServiceError("E_BAD_REQUEST", error.message.slice(0, 200))),
  );
  server.on("upgrade", (req, socket, head) => {
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://upgrade.invalid").pathname;
    } catch {
      return refuseUpgrade(socket, new ServiceError("E_BAD_REQUEST", "the upgrade's path is not a URL path"));
    }
    const serve = socketRoutes.get(path);
    if (!serve)
      return refuseUpgrade(socket, new ServiceError("E_NOT_FOUND", `upgrade ${path}`.slice(0, 200)));
    socket.on("error", () => socket.destroy());
    const admit = async () => {
      const caller = await callerOfUpgrade(deps, req);
      if (!caller) return { caller, refused: new ServiceError("E_UNAUTHORIZED") };
      // An upgrade counts as a request against the key's per-minute limit, as HTTP ones do.
      const limit = caller.limits.requestsPerMinute;
      const overLimit =
        limit > 0 &&
        (await countRequest(deps.redis, deps.config.queue.QUEUE_PREFIX, caller.keyId)).used > limit;
      return { caller, refused: overLimit ? new ServiceError("E_RATE_LIMITED", String(limit)) : null };
    };
    admit().then(
      ({ caller, refused }) => {
        if (!caller || refused) return refuseUpgrade(socket, refused ?? new ServiceError("E_UNAUTHORIZED"));
        wss.handleUpgrade(req, socket, head, (ws) => {
          const log = deps.logger.child({ socket: path, keyId: caller.keyId });
          serve(deps, ws, caller, log);
        });
      },
      () => refuseUpgrade(socket, new ServiceError("E_NOT_READY", "the key could not be checked")),
    );
  });
  return {
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
