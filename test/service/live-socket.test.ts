import { readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type JobEvent, jobEventKeys } from "../../contract/job-events.ts";
import { LIVE_CLOSE } from "../../contract/live-protocol.ts";
import { keySubprotocol, LIVE_SUBPROTOCOL } from "../../contract/live-subprotocol.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// Interactive runs over our WebSocket protocol (/ws), driven by the `ws` client: a guessing game,
// SIGINT into Python, end of input for cat, and the hostile cases (no init, floods, a client
// that does not read).

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED live socket tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

interface Client {
  ws: WebSocket;
  events: { id: string; event: JobEvent }[];
  errors: { code: string; message: string }[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  stdout(): string;
  stderr(): string;
}

async function connect(): Promise<Client> {
  const ws = new WebSocket(`${service.api.url.replace("http", "ws")}/ws`);
  const events: Client["events"] = [];
  const errors: Client["errors"] = [];
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "event") events.push({ id: message.id, event: message.event });
    else if (message.type === "error") errors.push(message.error);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const text = (stream: "stdout" | "stderr") =>
    events
      .flatMap(({ event }) => (event.type === "output" && event.stream === stream ? [event.data] : []))
      .join("");
  return {
    ws,
    events,
    errors,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    stdout: () => text("stdout"),
    stderr: () => text("stderr"),
  };
}

const finalOf = (client: Client) => {
  const last = client.events.at(-1)?.event;
  return last?.type === "job.finished" ? last.result : null;
};

const GUESSING = readFileSync(path.resolve(import.meta.dirname, "../fixtures/guessing-game.py"), "utf8");

describe.skipIf(unavailable !== null)(
  `interactive runs over /ws ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({
        redisUrl: redis.url,
        worker: true,
        env: {
          WORKER_SLOTS: "2",
          LIVE_INIT_TIMEOUT_MS: "500",
          LIVE_PENDING_INPUT_ENTRIES: "4",
          LIVE_IDLE_TIMEOUT_MS: "3000",
        },
      });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("a client plays a guessing game: send a number, read the answer, repeat", async () => {
      const client = await connect();
      client.send({ type: "init", request: { language: "python", source: GUESSING } });
      let low = 0;
      let high = 100;
      let answers = 0;
      for (;;) {
        await eventually(() => client.stdout().split("guess? ").length - 1, {
          until: (n) => n > answers,
          what: "the prompt",
        });
        const guess = Math.floor((low + high) / 2);
        client.send({ type: "stdin", data: `${guess}\n` });
        answers++;
        const answersSoFar = () =>
          [...client.stdout().matchAll(/(higher|lower|correct)\n/g)].map((m) => m[1]);
        const answer = await eventually(() => answersSoFar(), {
          until: (all) => all.length === answers,
          what: `the answer to ${guess}`,
        }).then((all) => all.at(-1));
        if (answer === "correct") break;
        if (answer === "higher") low = guess + 1;
        else high = guess - 1;
      }
      expect((await client.closed).code).toBe(LIVE_CLOSE.finished);
      expect(finalOf(client)?.verdict).toBe("ok");
      expect(answers).toBeLessThanOrEqual(7);
    });

    it("SIGINT to a Python loop raises KeyboardInterrupt in it", async () => {
      const client = await connect();
      const source = "import time\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.05)\n";
      client.send({ type: "init", request: { language: "python", source } });
      await eventually(() => client.stdout(), { until: (t) => t === "ready\n", what: "the loop started" });
      client.send({ type: "signal", signal: "SIGINT" });
      await client.closed;
      expect(client.stderr()).toContain("KeyboardInterrupt");
      expect(finalOf(client)?.verdict).toBe("runtime_error");
    });

    it("closing stdin ends cat, which had echoed its input", async () => {
      const client = await connect();
      client.send({ type: "init", request: { language: "bash", source: "cat" } });
      client.send({ type: "stdin", data: "one\n" });
      await eventually(() => client.stdout(), { until: (t) => t === "one\n", what: "the echo" });
      client.send({ type: "stdin", data: "two\n" });
      client.send({ type: "eof" });
      expect((await client.closed).code).toBe(LIVE_CLOSE.finished);
      expect(finalOf(client)?.runs[0]?.stdout).toBe("one\ntwo\n");
      expect(finalOf(client)?.verdict).toBe("ok");
    });

    it("a socket that never sends init is closed after the init timeout", async () => {
      const client = await connect();
      const closed = await client.closed;
      expect(closed.code).toBe(LIVE_CLOSE.initTimeout);
      expect(client.errors[0]?.code).toBe("E_INIT_TIMEOUT");
    });

    it("a socket idle for LIVE_IDLE_TIMEOUT_MS is closed and its job cancelled", async () => {
      const client = await connect();
      client.send({
        type: "init",
        request: { language: "bash", source: "sleep 30", limits: { wallTimeMs: 20_000 } },
      });
      const closed = await client.closed;
      expect(closed.code).toBe(LIVE_CLOSE.idleTimeout);
      const queued = client.events[0]?.event;
      const id = queued?.type === "job.queued" ? queued.id : "";
      await eventually(async () => (await service.get(`/jobs/${id}`)).json(), {
        until: (view) => view.status === "cancelled",
        what: "the job cancelled",
      });
    });

    it("with API keys, an upgrade without one is refused 401; Bearer and Piston's bare key are taken", async () => {
      const keyed = await startTestService({
        redisUrl: redis.url,
        worker: false,
        env: { API_KEYS: "live-test-key" },
      });
      const base = keyed.api.url.replace("http", "ws");
      const outcome = (path: string, headers: Record<string, string> = {}) =>
        new Promise<number | "open">((resolve) => {
          const ws = new WebSocket(`${base}${path}`, { headers });
          ws.on("open", () => {
            resolve("open");
            ws.close();
          });
          ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.on("error", () => resolve(-1));
        });
      try {
        expect(await outcome("/ws")).toBe(401);
        expect(await outcome("/ws", { authorization: "Bearer wrong" })).toBe(401);
        expect(await outcome("/ws", { authorization: "Bearer live-test-key" })).toBe("open");
        expect(await outcome("/api/v2/connect", { authorization: "live-test-key" })).toBe("open");
      } finally {
        await keyed.close();
      }
    });

    it("with API keys, a browser's key offered as a subprotocol is taken, and only cellblock.live is echoed", async () => {
      const keyed = await startTestService({
        redisUrl: redis.url,
        worker: false,
        env: { API_KEYS: "live-test-key" },
      });
      const encoded = (key: string) => keySubprotocol(Buffer.from(key).toString("base64url"));
      const outcome = (protocols: string[]) =>
        new Promise<string | number>((resolve) => {
          const ws = new WebSocket(`${keyed.api.url.replace("http", "ws")}/ws`, protocols);
          ws.on("open", () => {
            resolve(`open ${ws.protocol}`);
            ws.close();
          });
          ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.on("error", () => resolve(-1));
        });
      try {
        expect(await outcome([LIVE_SUBPROTOCOL, encoded("live-test-key")])).toBe(`open ${LIVE_SUBPROTOCOL}`);
        expect(await outcome([LIVE_SUBPROTOCOL, encoded("wrong")])).toBe(401);
        // Text that is not base64url is a wrong key, not a missing one (that would be anonymous).
        expect(await outcome([LIVE_SUBPROTOCOL, keySubprotocol("not*base64")])).toBe(401);
        expect(await outcome([LIVE_SUBPROTOCOL])).toBe(401);
      } finally {
        await keyed.close();
      }
    });

    it("an upgrade to any other path is refused with 404", async () => {
      const ws = new WebSocket(`${service.api.url.replace("http", "ws")}/jobs`);
      const status = await new Promise<number>((resolve) => {
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.on("error", () => resolve(-1));
      });
      expect(status).toBe(404);
    });

    it("protocol errors close the socket with their codes", async () => {
      const early = await connect();
      early.send({ type: "stdin", data: "x" });
      expect((await early.closed).code).toBe(LIVE_CLOSE.notInitialized);
      const garbage = await connect();
      garbage.ws.send("not json");
      expect((await garbage.closed).code).toBe(LIVE_CLOSE.invalid);
      const invalid = await connect();
      invalid.send({ type: "init", request: { language: "no-such-language", source: "" } });
      expect((await invalid.closed).code).toBe(LIVE_CLOSE.invalid);
      expect(invalid.errors[0]?.code).toBe("E_UNKNOWN_LANGUAGE");
      const huge = await connect();
      huge.send({ type: "init", request: { language: "bash", source: "x".repeat(70_000) } });
      expect((await huge.closed).code).toBe(1009);
      const twice = await connect();
      twice.send({ type: "init", request: { language: "bash", source: "sleep 5" } });
      twice.send({ type: "init", request: { language: "bash", source: "true" } });
      expect((await twice.closed).code).toBe(LIVE_CLOSE.alreadyInitialized);
    });

    it("a stdin flood is held back: at most the pending-input limit waits in Redis, every byte arrives", async () => {
      const client = await connect();
      const source = "import sys, time\ntime.sleep(1)\nprint(len(sys.stdin.buffer.read()))\n";
      client.send({ type: "init", request: { language: "python", source, limits: { wallTimeMs: 20_000 } } });
      const piece = "y".repeat(50_000);
      for (let i = 0; i < 100; i++) client.send({ type: "stdin", data: piece });
      client.send({ type: "eof" });
      const probe = new Redis(redis.url);
      let maxPending = 0;
      const queued =
        client.events.find((e) => e.event.type === "job.queued") ??
        (await eventually(() => client.events[0]));
      const id = queued?.event.type === "job.queued" ? queued.event.id : "";
      const key = jobEventKeys(service.config.queue.QUEUE_PREFIX).input(id);
      await eventually(
        async () => {
          maxPending = Math.max(maxPending, await probe.xlen(key));
          return finalOf(client);
        },
        { intervalMs: 20, what: "the job's end" },
      );
      probe.disconnect();
      expect(client.stdout()).toBe("5000000\n");
      expect(maxPending).toBeLessThanOrEqual(5);
    });

    it("an output flood stops at the cap", async () => {
      const client = await connect();
      client.send({
        type: "init",
        request: { language: "bash", source: "yes", limits: { outputBytes: 100_000 } },
      });
      await client.closed;
      expect(client.stdout().length).toBe(100_000);
      expect(finalOf(client)?.verdict).toBe("output_limit");
    });

    it("a client that stops reading leaves the events in Redis and gets all of them, in order, once it reads", async () => {
      const client = await connect();
      const source = "for i in $(seq 1 4000); do echo line $i; done";
      client.send({ type: "init", request: { language: "bash", source } });
      await eventually(() => client.events.length, { until: (n) => n > 0, what: "the first event" });
      const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      socket.pause();
      const first = client.events[0]?.event;
      const id = first?.type === "job.queued" ? first.id : "";
      await eventually(async () => (await service.get(`/jobs/${id}`)).json(), {
        until: (view) => view.status === "completed",
        what: "the job finished",
      });
      socket.resume();
      await client.closed;
      const expected = Array.from({ length: 4000 }, (_, i) => `line ${i + 1}\n`).join("");
      expect(client.stdout()).toBe(expected);
      const ids = client.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  },
);
