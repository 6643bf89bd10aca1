import type { Server } from "node:http";
import { WebSocketServer } from "ws";
import type { AppDeps } from "./app-deps.ts";
import { callerOfUpgrade, refuseUpgrade } from "./live-session.ts";
import { servePistonSocket } from "./piston-connect.ts";
import { serveLiveSocket } from "./ws-live.ts";

// WebSocket upgrades on the API's HTTP server: /ws (ws-live.ts) and Piston's /api/v2/connect
// (also under /api/v2/piston/, as the public instance served it: piston-connect.ts). Anything
// else is refused. The
// caller is authenticated from the upgrade's headers like any HTTP request; messages are capped
// at LIVE_MESSAGE_BYTES by ws itself (close 1009).

const socketRoutes = new Map<string, typeof serveLiveSocket>([
  ["/ws", serveLiveSocket],
  ["/api/v2/connect", servePistonSocket],
  ["/api/v2/piston/connect", servePistonSocket],
]);

export function attachLiveSockets(server: Server, deps: AppDeps): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.config.api.LIVE_MESSAGE_BYTES });
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const serve = socketRoutes.get(path);
    if (!serve) return refuseUpgrade(socket, 404, "Not Found");
    socket.on("error", () => socket.destroy());
    callerOfUpgrade(deps, req).then(
      (caller) => {
        if (!caller) return refuseUpgrade(socket, 401, "Unauthorized");
        wss.handleUpgrade(req, socket, head, (ws) => {
          const log = deps.logger.child({ socket: path, keyId: caller.keyId });
          serve(deps, ws, caller, log);
        });
      },
      () => refuseUpgrade(socket, 503, "Service Unavailable"),
    );
  });
  return {
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
