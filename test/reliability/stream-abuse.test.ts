import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { LIVE_CLOSE } from "../../contract/live-protocol.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// Hostile clients on the streaming surfaces (README "Live runs"): /ws, Piston's /api/v2/connect
// and the SSE routes, with real `ws` clients and raw sockets for what no client library sends.
// No worker runs: an accepted init leaves its job queued, so its stream stays open and holds a
// place. Every socket must end with its documented close code (or HTTP status), the per-key
// stream limit must hold across SSE and both WebSocket protocols, and every place must come back.

const KEY_A = "stream-abuse-key-a-0123456789";
const KEY_B = "stream-abuse-key-b-0123456789";
const STREAMS_PER_KEY = 3;
const MESSAGE_BYTES = 4096;

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({
    redisUrl: redis.url,
    worker: false,
    env: {
      API_KEYS: `${KEY_A},${KEY_B}`,
      KEY_DEFAULT_REQUESTS_PER_MINUTE: "0",
      LIVE_STREAMS_PER_KEY: String(STREAMS_PER_KEY),
      LIVE_MESSAGE_BYTES: String(MESSAGE_BYTES),
      LIVE_INIT_TIMEOUT_MS: "400",
      HTTP_HEADERS_TIMEOUT_MS: "500",
      HTTP_REQUEST_TIMEOUT_MS: "1000",
    },
  });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
}, 8000);

const wsUrl = (path: string) => `${service.api.url.replace("http", "ws")}${path}`;
const auth = (key = KEY_A) => ({ authorization: `Bearer ${key}` });

interface Client {
  ws: WebSocket;
  messages: unknown[];
  closed: Promise<{ code: number; reason: string }>;
}

async function open(path: string, key = KEY_A): Promise<Client> {
  const ws = new WebSocket(wsUrl(path), { headers: auth(key) });
  const messages: unknown[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  ws.on("error", () => {}); // a close code is what the tests judge
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  return { ws, messages, closed };
}

const ourInit = { type: "init", request: { language: "python", source: "print(input())" } };
const pistonInit = {
  type: "init",
  language: "python",
  version: "*",
  files: [{ content: "print(input())" }],
};

/** A client frame written by hand (masked, as a client's must be unless `unmasked`). */
function frame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; rsv?: number; unmasked?: boolean } = {},
) {
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  const mask = options.unmasked ? null : randomBytes(4);
  const length = payload.length;
  const lengthBytes =
    length < 126
      ? Buffer.from([(mask ? 0x80 : 0) | length])
      : length < 65_536
        ? Buffer.from([(mask ? 0x80 : 0) | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([(mask ? 0x80 : 0) | 127]), bigLength(length)]);
  const body = mask ? Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number))) : payload;
  return Buffer.concat([Buffer.from([first]), lengthBytes, ...(mask ? [mask] : []), body]);
}

function bigLength(length: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(length));
  return bytes;
}

interface RawSocket {
  socket: net.Socket;
  /** The HTTP status line's code of the handshake answer. */
  status: Promise<number>;
  /** The close code of the server's close frame, or null when the TCP connection ended without one. */
  closeCode: Promise<number | null>;
  ended: Promise<void>;
}

/** An upgrade over a raw socket: the handshake as given, then whatever frames a test writes. */
function rawUpgrade(path: string, headers: [string, string][] = defaultUpgradeHeaders()): RawSocket {
  const socket = net.connect({ port: service.api.port, host: "127.0.0.1" });
  socket.on("error", () => {});
  let received = Buffer.alloc(0);
  let resolveStatus: (status: number) => void = () => {};
  let resolveClose: (code: number | null) => void = () => {};
  const status = new Promise<number>((resolve) => {
    resolveStatus = resolve;
  });
  const closeCode = new Promise<number | null>((resolve) => {
    resolveClose = resolve;
  });
  const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("data", (chunk) => {
    received = Buffer.concat([received, chunk]);
    const headEnd = received.indexOf("\r\n\r\n");
    if (headEnd < 0) return;
    resolveStatus(Number(received.subarray(9, 12).toString()));
    // Server frames are unmasked: find the close frame (opcode 8) after the handshake.
    let at = headEnd + 4;
    while (at + 2 <= received.length) {
      const opcode = (received[at] as number) & 0x0f;
      let length = (received[at + 1] as number) & 0x7f;
      let start = at + 2;
      if (length === 126) {
        length = received.readUInt16BE(at + 2);
        start = at + 4;
      } else if (length === 127) {
        length = Number(received.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (start + length > received.length) break;
      if (opcode === 8) resolveClose(length >= 2 ? received.readUInt16BE(start) : 1005);
      at = start + length;
    }
  });
  socket.on("close", () => {
    resolveStatus(0);
    resolveClose(null);
  });
  const head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  socket.write(head);
  return { socket, status, closeCode, ended };
}

function defaultUpgradeHeaders(key = KEY_A): [string, string][] {
  return [
    ["Connection", "Upgrade"],
    ["Upgrade", "websocket"],
    ["Sec-WebSocket-Version", "13"],
    ["Sec-WebSocket-Key", randomBytes(16).toString("base64")],
    ["Authorization", `Bearer ${key}`],
  ];
}

/** How many streams key A can open right now (each an SSE on a queued job, closed again). */
async function freePlaces(jobId: string): Promise<number> {
  const controllers: AbortController[] = [];
  let opened = 0;
  for (let i = 0; i <= STREAMS_PER_KEY; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const response = await fetch(`${service.api.url}/jobs/${jobId}/events`, {
      headers: auth(),
      signal: controller.signal,
    });
    if (response.status === 200) opened++;
    else await response.body?.cancel();
  }
  for (const controller of controllers) controller.abort();
  return opened;
}

describe.each([
  ["/ws", ourInit, { type: "stdin", data: "x" }, LIVE_CLOSE.alreadyInitialized],
  ["/api/v2/connect", pistonInit, { type: "data", stream: "stdin", data: "x" }, 4000],
])("hostile frames on %s", (path, init, stdin, alreadyInitialized) => {
  it("each mistake closes the socket with its documented code", async () => {
    const cases: [string, (client: Client) => void, number][] = [
      ["not JSON", (c) => c.ws.send("{nope"), 4002],
      ["JSON of no message type", (c) => c.ws.send(JSON.stringify({ type: "launch" })), 4002],
      ["a binary frame where text is expected", (c) => c.ws.send(Buffer.from(JSON.stringify(init))), 4002],
      ["input before init", (c) => c.ws.send(JSON.stringify(stdin)), 4003],
      ["a message above LIVE_MESSAGE_BYTES", (c) => c.ws.send("x".repeat(MESSAGE_BYTES + 1)), 1009],
      [
        "an init nesting 1,000 arrays deep",
        (c) =>
          c.ws.send(`{"type":"init","language":"python","request":${"[".repeat(1000)}${"]".repeat(1000)}}`),
        4002,
      ],
      ["no init at all", () => {}, 4001],
      [
        "a second init",
        (c) => {
          c.ws.send(JSON.stringify(init));
          c.ws.send(JSON.stringify(init));
        },
        alreadyInitialized,
      ],
    ];
    for (const [what, act, code] of cases) {
      const client = await open(path);
      act(client);
      const closed = await client.closed;
      expect(closed.code, `${path}: ${what} (${JSON.stringify(client.messages)})`).toBe(code);
    }
  });

  it("frames no client library sends are refused by the protocol layer (1002, 1007), the socket closed", async () => {
    const cases: [string, Buffer, number][] = [
      ["invalid UTF-8 in a text frame", frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
      ["an unmasked client frame", frame(1, Buffer.from("{}"), { unmasked: true }), 1002],
      ["reserved bits set", frame(1, Buffer.from("{}"), { rsv: 7 }), 1002],
      ["an unknown opcode", frame(3, Buffer.from("{}")), 1002],
      ["a continuation with nothing to continue", frame(0, Buffer.from("{}")), 1002],
      ["a fragmented control frame", frame(9, Buffer.from("x"), { fin: false }), 1002],
      ["a frame claiming 2^53 bytes", frame(1, Buffer.alloc(0)).subarray(0, 2), 1009],
    ];
    for (const [what, bytes, code] of cases) {
      const raw = rawUpgrade(path);
      expect(await raw.status, what).toBe(101);
      if (what.startsWith("a frame claiming")) {
        // Header of a masked text frame whose 64-bit length is 2^53 - 1.
        raw.socket.write(Buffer.concat([Buffer.from([0x81, 0xff]), bigLength(2 ** 53 - 1), randomBytes(4)]));
      } else raw.socket.write(bytes);
      expect(await raw.closeCode, `${path}: ${what}`).toBe(code);
      await raw.ended;
    }
  });

  it("a fragmented message reassembled past LIVE_MESSAGE_BYTES is refused with 1009", async () => {
    const raw = rawUpgrade(path);
    expect(await raw.status).toBe(101);
    const piece = Buffer.alloc(MESSAGE_BYTES / 2, 0x61);
    raw.socket.write(frame(1, piece, { fin: false }));
    raw.socket.write(frame(0, piece, { fin: false }));
    raw.socket.write(frame(0, piece));
    expect(await raw.closeCode).toBe(1009);
    await raw.ended;
  });
});

describe("abusive upgrades and stream counts", () => {
  it("broken handshakes get an HTTP error and a closed socket", async () => {
    const without = (name: string) => defaultUpgradeHeaders().filter(([key]) => key !== name);
    const cases: [string, RawSocket, number][] = [
      ["no key", rawUpgrade("/ws", [...without("Authorization")]), 401],
      ["unknown key", rawUpgrade("/ws", [...without("Authorization"), ["X-API-Key", "nope"]]), 401],
      ["no Sec-WebSocket-Key", rawUpgrade("/ws", without("Sec-WebSocket-Key")), 400],
      [
        "a bad Sec-WebSocket-Key",
        rawUpgrade("/ws", [...without("Sec-WebSocket-Key"), ["Sec-WebSocket-Key", "short"]]),
        400,
      ],
      [
        "version 99",
        rawUpgrade("/api/v2/connect", [...without("Sec-WebSocket-Version"), ["Sec-WebSocket-Version", "99"]]),
        400,
      ],
      ["another path", rawUpgrade("/ws/../admin", defaultUpgradeHeaders()), 404],
      ["a path that is no URL", rawUpgrade("//[", defaultUpgradeHeaders()), 400],
    ];
    for (const [what, raw, status] of cases) {
      expect(await raw.status, what).toBe(status);
      await raw.ended;
    }
  });

  it("an upgrade whose headers never finish is closed at the headers timeout", async () => {
    const socket = net.connect({ port: service.api.port, host: "127.0.0.1" });
    socket.on("error", () => {});
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n");
    await ended;
    expect(Buffer.concat(chunks).toString("latin1")).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("sixty sockets that never send init are all closed with 4001, and hold no stream place", async () => {
    const clients = await Promise.all(
      Array.from({ length: 60 }, (_, i) => open(i % 2 ? "/ws" : "/api/v2/connect")),
    );
    const codes = await Promise.all(clients.map(async (c) => (await c.closed).code));
    expect(new Set(codes)).toEqual(new Set([4001]));
    const { id } = await (await service.post("/jobs", ourInit.request, auth())).json();
    expect(await freePlaces(id)).toBe(STREAMS_PER_KEY);
  });

  it("clients that close right after init (before or while their job is submitted) leave no place held", async () => {
    const { id } = await (await service.post("/jobs", ourInit.request, auth())).json();
    for (let i = 0; i < 12; i++) {
      const client = await open(i % 2 ? "/ws" : "/api/v2/connect");
      client.ws.send(JSON.stringify(i % 2 ? ourInit : pistonInit));
      if (i % 3 === 0)
        client.ws.send(JSON.stringify(i % 2 ? ourInit : pistonInit)); // a second init
      else if (i % 3 === 1) client.ws.terminate();
      else client.ws.close();
      await client.closed;
    }
    await eventually(() => freePlaces(id), { until: (n) => n === STREAMS_PER_KEY });
  });

  it("LIVE_STREAMS_PER_KEY holds across SSE, /ws and /api/v2/connect; another key is unaffected; places come back", async () => {
    const { id } = await (await service.post("/jobs", ourInit.request, auth())).json();
    const sse = new AbortController();
    const stream = await fetch(`${service.api.url}/jobs/${id}/events`, {
      headers: auth(),
      signal: sse.signal,
    });
    expect(stream.status).toBe(200);
    const ours = await open("/ws");
    ours.ws.send(JSON.stringify(ourInit));
    const piston = await open("/api/v2/connect");
    piston.ws.send(JSON.stringify(pistonInit));
    await eventually(() => piston.messages.length, { until: (n) => n > 0 });

    // The key has its three: a fourth of each kind is refused.
    const refusedSse = await fetch(`${service.api.url}/jobs/${id}/events`, { headers: auth() });
    expect(refusedSse.status).toBe(429);
    expect((await refusedSse.json()).error.code).toBe("E_TOO_MANY_STREAMS");
    const depth = async () => (await (await service.get("/status.json", auth())).json()).queue.depth;
    const queuedBefore = await depth();
    const refusedRun = await service.post("/run?stream=1", ourInit.request, auth());
    expect(refusedRun.status).toBe(429);
    expect((await refusedRun.json()).error.code).toBe("E_TOO_MANY_STREAMS");
    // Refused before anything was queued (it used to queue a job, then answer 429).
    expect(await depth()).toBe(queuedBefore);
    const fourth = await open("/ws");
    fourth.ws.send(JSON.stringify(ourInit));
    expect((await fourth.closed).code).toBe(LIVE_CLOSE.tooManyStreams);
    expect(fourth.messages).toContainEqual(expect.objectContaining({ type: "error" }));
    const fifth = await open("/api/v2/connect");
    fifth.ws.send(JSON.stringify(pistonInit));
    expect((await fifth.closed).code).toBe(4002);

    // Key B has its own places.
    const other = await open("/ws", KEY_B);
    other.ws.send(JSON.stringify(ourInit));
    const otherSse = await fetch(`${service.api.url}/jobs/${id}/events`, { headers: auth(KEY_B) });
    expect(otherSse.status).toBe(404); // not B's job: the place is not even asked for
    await otherSse.body?.cancel();
    other.ws.close();

    // Clients that leave give their places back (and cancel their live jobs).
    sse.abort();
    ours.ws.terminate();
    piston.ws.close();
    await eventually(() => freePlaces(id), { until: (n) => n === STREAMS_PER_KEY });
    expect((await service.get("/healthz")).status).toBe(200);
  });
});
