import net from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../api/http-server-limits.ts";
import { loadConfig } from "../../config/load-config.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { parseResponse, parseResponses, sendRaw } from "../reliability/raw-http.ts";

// HTTP abuse against the real API over raw sockets: slow clients (headers and bodies trickled),
// idle connections, pipelining, too many connections, and requests the HTTP parser refuses. The
// server's limits come from config (api/http-server-limits.ts); they are short here so the tests
// are quick.

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 1200;
const KEEP_ALIVE_TIMEOUT_MS = 400;
const MAX_CONNECTIONS = 8;

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({
    redisUrl: redis.url,
    worker: false,
    env: {
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      HTTP_MAX_HEADER_BYTES: "8192",
    },
  });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

/** A raw connection: what it received, and whether (and when) the server closed it. */
function connect() {
  const socket = net.connect({ port: service.api.port, host: "127.0.0.1" });
  const state = { data: Buffer.alloc(0), closedAtMs: null as number | null, openedAtMs: performance.now() };
  socket.on("data", (chunk: Buffer) => {
    state.data = Buffer.concat([state.data, chunk]);
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    state.closedAtMs = performance.now();
  });
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, state, connected };
}

const errorCodeOf = (body: Buffer) => JSON.parse(body.toString("utf8")).error.code as string;
const closed = (state: { closedAtMs: number | null }) =>
  eventually(() => state.closedAtMs, {
    until: (at) => at !== null,
    timeoutMs: 15_000,
    what: "server closes",
  });

describe("slow and idle clients", () => {
  it("a client trickling its headers gets 408 E_REQUEST_TIMEOUT and is disconnected after the headers timeout", async () => {
    const { socket, state, connected } = connect();
    await connected;
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => socket.writable && socket.write("X-Slow: a\r\n"), 50);
    try {
      await closed(state);
    } finally {
      clearInterval(trickle);
    }
    const response = parseResponse(state.data);
    expect(response?.status).toBe(408);
    expect(errorCodeOf(response?.body ?? Buffer.alloc(0))).toBe("E_REQUEST_TIMEOUT");
    expect((state.closedAtMs ?? 0) - state.openedAtMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS);
  });

  it("a client trickling its body is cut off at the request timeout although it keeps sending", async () => {
    const { socket, state, connected } = connect();
    await connected;
    const body = JSON.stringify({ language: "python", source: "x".repeat(10_000) });
    socket.write(
      `POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    let sent = 0;
    const trickle = setInterval(() => {
      if (!socket.writable || sent >= body.length) return;
      socket.write(body.slice(sent, sent + 5));
      sent += 5;
    }, 20);
    try {
      await closed(state);
    } finally {
      clearInterval(trickle);
    }
    expect(sent).toBeLessThan(body.length);
    const response = parseResponse(state.data);
    expect(response?.status).toBe(408);
    expect(errorCodeOf(response?.body ?? Buffer.alloc(0))).toBe("E_REQUEST_TIMEOUT");
    expect((state.closedAtMs ?? 0) - state.openedAtMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
  });

  it("a connection that never sends a byte is closed after the headers timeout", async () => {
    const { state, connected } = connect();
    await connected;
    await closed(state);
    expect((state.closedAtMs ?? 0) - state.openedAtMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS);
  });

  it("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
    const { socket, state, connected } = connect();
    await connected;
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const answered = await eventually(() => parseResponse(state.data), { what: "healthz answer" });
    expect(answered?.status).toBe(200);
    const answeredAtMs = performance.now();
    await closed(state);
    expect((state.closedAtMs ?? 0) - answeredAtMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
  });

  it("connections beyond the maximum are closed at once while the open ones stay served", async () => {
    const idle = Array.from({ length: MAX_CONNECTIONS + 4 }, () => connect());
    try {
      await Promise.all(idle.map((c) => c.connected));
      // The server refuses the extra ones on accept: some are closed without a byte, before any timeout.
      const refused = await eventually(() => idle.filter((c) => c.state.closedAtMs !== null).length, {
        until: (n) => n >= 4,
        what: "extra connections closed",
      });
      expect(refused).toBeGreaterThanOrEqual(4);
      expect(idle.every((c) => c.state.data.length === 0)).toBe(true);
    } finally {
      for (const c of idle) c.socket.destroy();
    }
    // Once they are gone, new clients are served again.
    const health = await eventually(
      async () => sendRaw(service.api.port, { method: "GET", target: "/healthz", headers: [] }, 5000),
      { until: (outcome) => outcome.kind === "answered", what: "served again" },
    );
    expect(health.kind === "answered" && health.response.status).toBe(200);
  });
});

describe("pipelined and malformed requests", () => {
  it("pipelined requests on one connection are all answered, in order", async () => {
    const { socket, state, connected } = connect();
    await connected;
    const body = JSON.stringify({ language: "nope", source: "x" });
    socket.write(
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" +
        `POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" +
        "GET /languages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    await closed(state);
    const responses = parseResponses(state.data);
    expect(responses.map((r) => r.status)).toEqual([200, 400, 404, 200]);
    expect(errorCodeOf(responses[1]?.body ?? Buffer.alloc(0))).toBe("E_UNKNOWN_LANGUAGE");
  });

  const refused: [string, string, number, string][] = [
    ["an unknown method", "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "E_BAD_REQUEST"],
    ["a lower-case method", "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "E_BAD_REQUEST"],
    ["a missing Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "E_BAD_REQUEST"],
    [
      "two different Content-Lengths",
      "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}}",
      400,
      "E_BAD_REQUEST",
    ],
    [
      "Content-Length with chunked (request smuggling)",
      "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
      "E_BAD_REQUEST",
    ],
    ["a NUL in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n", 400, "E_BAD_REQUEST"],
    [
      "headers above the limit",
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(9000)}\r\n\r\n`,
      431,
      "E_HEADERS_TOO_LARGE",
    ],
    ["CONNECT", "CONNECT 127.0.0.1:6379 HTTP/1.1\r\nHost: 127.0.0.1:6379\r\n\r\n", 404, "E_NOT_FOUND"],
    [
      "an unknown Expect",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n",
      417,
      "E_EXPECTATION_FAILED",
    ],
  ];
  for (const [name, raw, status, code] of refused) {
    it(`${name} is answered ${status} ${code} in the API's error shape and the connection closed`, async () => {
      const { socket, state, connected } = connect();
      await connected;
      socket.write(Buffer.from(raw, "latin1"));
      await closed(state);
      const response = parseResponse(state.data);
      expect(response?.status, state.data.toString("latin1").slice(0, 300)).toBe(status);
      expect(errorCodeOf(response?.body ?? Buffer.alloc(0))).toBe(code);
    });
  }
});

describe("configuration", () => {
  it("a headers timeout above the request timeout is refused at start-up, naming both variables", () => {
    const config = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "5000", HTTP_REQUEST_TIMEOUT_MS: "1000" });
    expect(() => createHttpServer(() => {}, config.api, pino({ level: "silent" }))).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS \(5000\) must not exceed HTTP_REQUEST_TIMEOUT_MS \(1000\)/,
    );
  });
});
