import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startTestRedis } from "../test/helpers/redis.ts";
import { startTestService } from "../test/helpers/service.ts";

// `npm run bench:live`: how long live output and input take through the whole service (API,
// Redis, worker, sandbox), on its own redis-server and an in-process worker; counts are bounded.
//   1. write → receipt: a program prints its own clock (CLOCK_REALTIME, ms) every 20 ms; the client
//      reads POST /run?stream=1 and subtracts that from its clock when the piece arrives.
//   2. stdin round trip over /ws: send a line to `cat`, wait for it to come back as output.

const { values: flags } = parseArgs({
  options: { lines: { type: "string", default: "200" }, trips: { type: "string", default: "200" } },
});
const lines = Number(flags.lines);
const trips = Number(flags.trips);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const nowMs = () => performance.timeOrigin + performance.now();
const report = (what: string, samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (n: number) => n.toFixed(2);
  console.log(
    `${what}: n=${sorted.length} p50 ${fmt(percentile(sorted, 0.5))} ms, p90 ${fmt(percentile(sorted, 0.9))} ms, p99 ${fmt(percentile(sorted, 0.99))} ms`,
  );
};

const redis = await startTestRedis();
const service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "2" } });
try {
  // 1. write → receipt over SSE.
  const source = `import time\nfor i in range(${lines}):\n    print(f"{time.time() * 1000:.3f}", flush=True)\n    time.sleep(0.02)\n`;
  const response = await service.post("/run?stream=1", {
    language: "python",
    source,
    limits: { wallTimeMs: 30_000 },
  });
  const delays: number[] = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    const received = nowMs();
    buffered += decoder.decode(chunk, { stream: true });
    const frames = buffered.split("\n\n");
    buffered = frames.pop() ?? "";
    for (const frame of frames) {
      const data = frame.split("\n").find((l) => l.startsWith("data: "));
      const event = data ? JSON.parse(data.slice(6)) : null;
      if (event?.type !== "output") continue;
      for (const line of String(event.data).split("\n")) if (line) delays.push(received - Number(line));
    }
  }
  report("write → SSE receipt", delays);

  // 2. stdin round trip over /ws.
  const ws = new WebSocket(`${service.api.url.replace("http", "ws")}/ws`);
  await new Promise((resolve) => ws.once("open", resolve));
  let echoed = "";
  let wake: (() => void) | null = null;
  ws.on("message", (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === "event" && message.event.type === "output") echoed += message.event.data;
    wake?.();
  });
  ws.send(
    JSON.stringify({
      type: "init",
      request: { language: "bash", source: "cat", limits: { wallTimeMs: 30_000 } },
    }),
  );
  const roundTrips: number[] = [];
  for (let i = 0; i < trips; i++) {
    const line = `trip ${i}\n`;
    const t0 = nowMs();
    ws.send(JSON.stringify({ type: "stdin", data: line }));
    while (!echoed.endsWith(line)) await new Promise<void>((resolve) => (wake = resolve));
    roundTrips.push(nowMs() - t0);
  }
  ws.send(JSON.stringify({ type: "eof" }));
  await new Promise((resolve) => ws.once("close", resolve));
  report("stdin → output round trip over /ws", roundTrips);
} finally {
  await service.close();
  await redis.stop();
}
