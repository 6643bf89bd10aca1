import http from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { ApiSettings } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";

// The HTTP server under the express app, with limits against clients that hold resources without
// finishing a request (slowloris: headers or body trickled a byte at a time; connections opened
// and never used), set from config:
//   headersTimeout — a request's headers must arrive within HTTP_HEADERS_TIMEOUT_MS of its start;
//   requestTimeout — the whole request, body included, within HTTP_REQUEST_TIMEOUT_MS (trickling
//                    does not reset it, unlike a socket idle timeout);
//   keepAliveTimeout — an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS;
//   maxConnections — connections beyond HTTP_MAX_CONNECTIONS are closed on accept;
//   maxHeaderSize — request line + headers above HTTP_MAX_HEADER_BYTES are refused.
// Node checks the two request timers every connectionsCheckingInterval (30 s by default, which
// would let a slow client keep a connection up to 30 s past its deadline); here it is a tenth of
// the headers timeout, between 50 ms and 1 s.
//
// Whatever the HTTP parser refuses (bad framing, bad characters, oversize headers, timeouts) is
// answered in the contract's error shape with a stable code and the connection is closed — Node's
// default is a bare "400 Bad Request" without a body — and so are CONNECT and unknown Expect
// values, which Node would otherwise answer or drop itself.

export type HttpLimits = Pick<
  ApiSettings,
  | "HTTP_HEADERS_TIMEOUT_MS"
  | "HTTP_REQUEST_TIMEOUT_MS"
  | "HTTP_KEEP_ALIVE_TIMEOUT_MS"
  | "HTTP_MAX_CONNECTIONS"
  | "HTTP_MAX_HEADER_BYTES"
>;

export function createHttpServer(app: http.RequestListener, limits: HttpLimits, logger: Logger): http.Server {
  if (limits.HTTP_HEADERS_TIMEOUT_MS > limits.HTTP_REQUEST_TIMEOUT_MS) {
    throw new Error(
      `start API: HTTP_HEADERS_TIMEOUT_MS (${limits.HTTP_HEADERS_TIMEOUT_MS}) must not exceed ` +
        `HTTP_REQUEST_TIMEOUT_MS (${limits.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  const server = http.createServer(
    {
      maxHeaderSize: limits.HTTP_MAX_HEADER_BYTES,
      headersTimeout: limits.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: limits.HTTP_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(
        1000,
        Math.max(50, Math.floor(limits.HTTP_HEADERS_TIMEOUT_MS / 10)),
      ),
      // Node's own check answers a bare 400; ours below answers in the contract's shape.
      requireHostHeader: false,
    },
    (req, res) => {
      if (req.httpVersion === "1.1" && req.headers.host === undefined) {
        const error = new ServiceError("E_BAD_REQUEST", "an HTTP/1.1 request needs a Host header");
        res.writeHead(error.status, {
          "content-type": "application/json; charset=utf-8",
          connection: "close",
        });
        return void res.end(JSON.stringify(error.toBody()));
      }
      app(req, res);
    },
  );
  trackUnstartedConnections(server);
  server.keepAliveTimeout = limits.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  if (limits.HTTP_MAX_CONNECTIONS > 0) server.maxConnections = limits.HTTP_MAX_CONNECTIONS;

  server.on("clientError", (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    logger.debug({ code: error.code, reason: error.reason }, "malformed HTTP request refused");
    answerOnSocket(socket, fromParserError(error, limits));
  });
  server.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    answerOnSocket(socket, new ServiceError("E_NOT_FOUND", `CONNECT ${req.url ?? ""}`.slice(0, 200)));
  });
  server.on("checkExpectation", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const error = new ServiceError("E_EXPECTATION_FAILED", String(req.headers.expect).slice(0, 100));
    res.writeHead(error.status, { "content-type": "application/json; charset=utf-8", connection: "close" });
    res.end(JSON.stringify(error.toBody()));
  });
  return server;
}

const unstarted = new WeakMap<http.Server, Set<Duplex>>();

/** Notes connections that have not yet delivered a whole request head (silent or trickling). */
function trackUnstartedConnections(server: http.Server): void {
  const sockets = new Set<Duplex>();
  unstarted.set(server, sockets);
  server.on("connection", (socket: Duplex) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (req: http.IncomingMessage) => sockets.delete(req.socket));
  server.on("upgrade", (req: http.IncomingMessage) => sockets.delete(req.socket));
}

/**
 * Destroys the connections that never delivered a request. server.close() stops the timer that
 * enforces the headers timeout, and closeIdleConnections() leaves them (they are not idle, they
 * are waiting for headers), so one silent client held a closing API open for ever (found by the
 * stream-abuse tests).
 */
export function destroyUnstartedConnections(server: http.Server): void {
  for (const socket of unstarted.get(server) ?? []) socket.destroy();
}

function fromParserError(
  error: NodeJS.ErrnoException & { reason?: string },
  limits: HttpLimits,
): ServiceError {
  switch (error.code) {
    case "HPE_HEADER_OVERFLOW":
      return new ServiceError("E_HEADERS_TOO_LARGE", String(limits.HTTP_MAX_HEADER_BYTES));
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new ServiceError("E_REQUEST_TIMEOUT", String(limits.HTTP_REQUEST_TIMEOUT_MS));
    default:
      return new ServiceError("E_BAD_REQUEST", error.reason ?? error.code ?? "unparsable request");
  }
}

/** Writes a whole response on a socket that has no ServerResponse, and closes it. */
function answerOnSocket(socket: Duplex, error: ServiceError): void {
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? ""}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
