// `npm run bench:timeline [-- --runs 200 --slots 2]`: where a POST /run's latency goes, from the
// timestamps BullMQ keeps on each job (ms): client send → job added (the API's way in), added →
// taken by a worker, taken → finished (the worker: its own steps, BullMQ's, and the sandbox run),
// finished → the client has the reply (the completion event and the API's way out). Bash `true`
// at concurrency 1 against its own redis-server, API and worker process; 127.0.0.1 only, bounded.
// bench:service gives the totals against the sandbox alone; this splits them.
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { QUEUE_NAME } from "../contract/queue.ts";
import { startBenchService } from "./bench-service.ts";

const { values: flags } = parseArgs({
  options: { runs: { type: "string", default: "200" }, slots: { type: "string", default: "2" } },
});
const runs = Number(flags.runs);
const WARM_UP = 20;

const service = await startBenchService("timeline", {
  ...process.env,
  WORKER_SLOTS: flags.slots,
  RESULT_TTL_S: "600", // the finished jobs' hashes are read at the end
});
const { api, config, redis } = service;
const db = new Redis(redis.url);
try {
  const client: { sent: number; replied: number }[] = [];
  for (let i = 0; i < WARM_UP + runs; i++) {
    const sent = Date.now();
    const response = await fetch(`${api.url}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ language: "bash", source: "true\n" }),
    });
    const body = (await response.json()) as { verdict?: string };
    if (response.status !== 200 || body.verdict !== "ok")
      throw new Error(`POST /run: ${response.status} ${JSON.stringify(body)}`);
    client.push({ sent, replied: Date.now() });
  }
  const jobs = [];
  for (const id of await db.zrange(`${config.queue.QUEUE_PREFIX}:${QUEUE_NAME}:completed`, 0, -1)) {
    const h = await db.hmget(
      `${config.queue.QUEUE_PREFIX}:${QUEUE_NAME}:${id}`,
      "timestamp",
      "processedOn",
      "finishedOn",
    );
    jobs.push({ added: Number(h[0]), taken: Number(h[1]), finished: Number(h[2]) });
  }
  if (jobs.length !== client.length)
    throw new Error(`${jobs.length} finished jobs for ${client.length} requests`);
  jobs.sort((a, b) => a.added - b.added); // one at a time: the order they were sent in
  const pairs = jobs.map((job, i) => ({ job, c: client[i] as (typeof client)[number] })).slice(WARM_UP);
  const parts: [string, (p: (typeof pairs)[number]) => number][] = [
    ["client sent → job added (API in)", ({ job, c }) => job.added - c.sent],
    ["job added → taken by the worker", ({ job }) => job.taken - job.added],
    ["taken → finished (worker + sandbox)", ({ job }) => job.finished - job.taken],
    ["finished → client has the reply (API out)", ({ job, c }) => c.replied - job.finished],
    ["total", ({ c }) => c.replied - c.sent],
  ];
  console.log(
    `POST /run bash true, ${pairs.length} runs one after another, worker with ${flags.slots} slots (ms)`,
  );
  console.log(`${"".padEnd(44)}p50    p90`);
  for (const [name, of] of parts) {
    const xs = pairs.map(of).sort((a, b) => a - b);
    const at = (q: number) => String(xs[Math.floor(q * xs.length)]).padStart(5);
    console.log(`  ${name.padEnd(42)}${at(0.5)}  ${at(0.9)}`);
  }
  // The floor under those parts on this machine: what one Redis round trip and one keep-alive HTTP
  // round trip to the API (GET /healthz: no Redis, no validation) cost, measured now. A POST /run
  // is at least one HTTP round trip and 8 Redis hops one after another: the API's key check,
  // fair-share reserve and add; the worker's wake-up on the queue marker, moveToActive and
  // moveToFinished; the completion event's wake-up of the API (docs/ARCHITECTURE.md, per-job budget).
  const timed = async (n: number, once: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await once();
      xs.push(performance.now() - t0);
    }
    return xs.sort((a, b) => a - b);
  };
  const redisRtt = await timed(1000, () => db.ping());
  const httpRtt = await timed(1000, async () => (await fetch(`${api.url}/healthz`)).arrayBuffer());
  const p = (xs: number[], q: number) => (xs[Math.floor(q * xs.length)] ?? Number.NaN).toFixed(2).padStart(5);
  console.log(`\nfloor, measured in the same run (ms)${"".padEnd(8)}p50    p90`);
  console.log(`  ${"Redis round trip (PING)".padEnd(42)}${p(redisRtt, 0.5)}  ${p(redisRtt, 0.9)}`);
  console.log(
    `  ${"HTTP keep-alive round trip (GET /healthz)".padEnd(42)}${p(httpRtt, 0.5)}  ${p(httpRtt, 0.9)}`,
  );
  const floor = (q: number) =>
    (httpRtt[Math.floor(q * httpRtt.length)] ?? 0) + 8 * (redisRtt[Math.floor(q * redisRtt.length)] ?? 0);
  console.log(
    `  ${"HTTP + 8 Redis hops (a POST /run's floor)".padEnd(42)}${floor(0.5).toFixed(2).padStart(5)}`,
  );
} finally {
  db.disconnect();
  await service.stop();
}
