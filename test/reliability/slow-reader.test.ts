import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// A client that stays connected but stops reading (README "Live runs"): once a frame has waited
// STREAM_DRAIN_TIMEOUT_MS for room in its socket, the stream is cut, its place among the key's
// streams comes back, and the job itself still ends. Real jobs write far more output than TCP
// buffers on loopback hold (~4 MiB here), so the stream cannot simply finish into the buffers.

const KEY = "slow-reader-key-0123456789";
const DRAIN_TIMEOUT_MS = 1500;
const OUTPUT_BYTES = 24 << 20;

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({
    redisUrl: redis.url,
    worker: true,
    env: {
      API_KEYS: KEY,
      KEY_DEFAULT_REQUESTS_PER_MINUTE: "0",
      LIVE_STREAMS_PER_KEY: "1",
      STREAM_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      MAX_OUTPUT_BYTES: String(32 << 20),
    },
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await redis?.stop();
}, 10_000);

const auth = { authorization: `Bearer ${KEY}` };
const loud = {
  language: "python",
  source: `import sys\nsys.stdout.write("x" * ${OUTPUT_BYTES})\n`,
  limits: { outputBytes: 32 << 20 },
};

/** The key's one stream place, probed with a stream of a finished job: 429 while it is held. */
async function placeFree(jobId: string): Promise<boolean> {
  const res = await service.get(`/jobs/${jobId}/events`, auth);
  await res.body?.cancel(); // a 200 would replay the whole job: closing it gives the place back
  if (res.status !== 200 && res.status !== 429) throw new Error(`probe answered ${res.status}`);
  return res.status === 200;
}

/** POST /run?stream=1 over a raw socket that reads the response head, then stops reading. */
async function stalledSseClient() {
  const socket = net.connect({ port: service.api.port, host: "127.0.0.1" });
  const body = JSON.stringify(loud);
  socket.write(
    `POST /run?stream=1 HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${KEY}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  let received = "";
  let paused = false;
  const head = await new Promise<string>((resolve, reject) => {
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      if (end >= 0 && !paused) {
        paused = true;
        socket.pause();
        resolve(received.slice(0, end));
      }
    });
    socket.once("error", reject);
  });
  // Ended by the server's FIN, or by a reset (the kernel's answer to data sent after the cut).
  const rest = new Promise<string>((resolve) => {
    socket.on("error", () => {});
    socket.once("close", () => resolve(received));
  });
  return { socket, head, rest };
}

describe("a streaming client that stops reading", () => {
  it("SSE: the stream is cut after the drain timeout, the place comes back, the job ends", async () => {
    const client = await stalledSseClient();
    expect(client.head).toMatch(/^HTTP\/1\.1 200/);
    const jobId = /x-job-id: (\S+)/i.exec(client.head)?.[1] as string;
    expect(jobId).toBeTruthy();
    expect(await placeFree(jobId)).toBe(false);
    await eventually(() => placeFree(jobId), { timeoutMs: 30_000, intervalMs: 250, what: "place back" });
    const job = await eventually(
      async () => (await (await service.get(`/jobs/${jobId}`, auth)).json()) as { status: string },
      { until: (j) => j.status === "completed", what: "job completed" },
    );
    expect(job.status).toBe("completed");
    // What the cut stream delivered once read: its socket's buffers, then the end, no final event.
    client.socket.resume();
    const text = await client.rest;
    expect(text).toContain("event: output");
    expect(text).not.toContain("event: job.finished");
    expect(text.length).toBeLessThan(OUTPUT_BYTES);
  }, 90_000);

  it("/ws: the socket is cut after the drain timeout and the place comes back", async () => {
    const ws = new WebSocket(`${service.api.url.replace("http", "ws")}/ws`, { headers: auth });
    ws.on("error", () => {});
    const messages: { type: string; event?: { type: string } }[] = [];
    ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
    const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve) => ws.once("open", resolve));
    const first = new Promise((resolve) => ws.once("message", resolve));
    ws.send(JSON.stringify({ type: "init", request: loud }));
    await first; // the place is taken before anything is sent
    ws.pause();
    // The place is this socket's until it is cut: a probe with another stream is refused.
    const probeJob = (await (
      await service.post("/jobs", { language: "python", source: "print(1)" }, auth)
    ).json()) as { id: string };
    expect(await placeFree(probeJob.id)).toBe(false);
    await eventually(() => placeFree(probeJob.id), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: "place back",
    });
    ws.resume();
    // Cut without a close frame (1006), and without the job's final event.
    expect(await closed).toBe(1006);
    expect(messages.some((m) => m.type === "event" && m.event?.type === "output")).toBe(true);
    expect(messages.some((m) => m.event?.type === "job.finished")).toBe(false);
  }, 90_000);
});
