import type { RawRequest } from "../raw-http.ts";
import { cellblockErrorCode } from "./routes-cellblock.ts";

// What a compatibility API's error answer may look like besides its own shape. Outside the API's
// mount (a path trick that leaves it) the answer is cellblock's own; so is what the HTTP layer
// refuses before any route is known (an unparsable request, oversized headers, a request that
// never completed, an Expect it cannot meet, a CONNECT), in cellblock's {"error":{"code"}} shape.

const HTTP_LAYER_CODES = new Set([
  "E_BAD_REQUEST",
  "E_HEADERS_TOO_LARGE",
  "E_REQUEST_TIMEOUT",
  "E_EXPECTATION_FAILED",
]);

/** Whether `target` is routed to the API mounted at `mount` (Express matches paths case-insensitively). */
export function underMount(target: string, mount: string): boolean {
  const path = target.split("?")[0]?.toLowerCase() ?? "";
  return path === mount || path.startsWith(`${mount}/`);
}

export function parseJson(body: Buffer, contentType: string | undefined): unknown {
  if (!contentType?.startsWith("application/json")) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The error code of a compatibility API's answer: `own` reads the API's shape; otherwise
 * cellblock's shape is accepted outside `mounts` and, inside them, only for the HTTP layer's codes.
 */
export function compatErrorCode(
  mounts: string[],
  own: (status: number, body: Buffer, contentType: string | undefined) => string | null,
) {
  return (
    status: number,
    body: Buffer,
    contentType: string | undefined,
    request: Pick<RawRequest, "method" | "target" | "headers">,
  ): string | null => {
    const code = own(status, body, contentType);
    if (code !== null) return code;
    const fallback = cellblockErrorCode(status, body, contentType);
    if (fallback === null) return null;
    if (!mounts.some((mount) => underMount(request.target, mount))) return fallback;
    // Node answers CONNECT (a proxy's method) on the server, before any route; and any request
    // asking to upgrade (websocket, h2c) goes to the server's upgrade handler, not to the routes.
    if (request.method === "CONNECT" && fallback === "E_NOT_FOUND") return fallback;
    if (request.headers.some(([name]) => /^upgrade$/i.test(name))) return fallback;
    return HTTP_LAYER_CODES.has(fallback) ? fallback : null;
  };
}
