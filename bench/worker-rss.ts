import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import WebSocket from "ws";
import { startApi } from "../api/start-api.ts";
import { loadConfig } from "../config/load-config.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { startWorkerProcess } from "../test/helpers/worker-process.ts";

// `npm run bench:worker-rss [-- --jobs 10000 --step 1000 --slots 2 --max-seconds 900]`: one worker
// process runs trivial bash jobs (submitted as batches of `step`), and after each `step` jobs, and
// a full GC through the worker's inspector, its resident memory is read from /proc/<pid>/status:
// VmRSS, RssAnon (the heap side, where malloc arenas of the addon's slot threads show), the JS
// heap's size (from V8) and the thread count. Prints one line per step and the
// figure of issue 17: RSS after all jobs minus RSS after the first `step` (target ≤ +5 MiB for
// 10k − 1k). `--arena-max N` runs the worker with MALLOC_ARENA_MAX=N, to compare allocator settings
// in one run. 127.0.0.1 only; bounded by --max-seconds.

const { values: flags } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    step: { type: "string", default: "1000" },
    slots: { type: "string", default: "2" },
    "max-seconds": { type: "string", default: "900" },
    "arena-max": { type: "string" },
  },
});
const totalJobs = Number(flags.jobs);
const step = Number(flags.step);
const deadline = Date.now() + Number(flags["max-seconds"]) * 1000;

/** A free loopback port for the worker's inspector. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The worker's inspector (loopback, this bench only): a full GC before each reading, so the JS
 * heap's sawtooth does not hide or fake the growth, and the JS heap's own size beside the RSS.
 */
async function connectInspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error("worker inspector: no target");
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let nextId = 0;
  const pending = new Map<number, (result: Record<string, number>) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: Record<string, number> };
    if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
  });
  const call = (method: string) =>
    new Promise<Record<string, number>>((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method }));
    });
  await call("HeapProfiler.enable");
  return {
    async collect() {
      await call("HeapProfiler.collectGarbage");
      await call("HeapProfiler.collectGarbage");
      const usage = await call("Runtime.getHeapUsage");
      return { jsHeapMiB: (usage.totalSize ?? 0) / 1024 / 1024 };
    },
    close: () => socket.close(),
  };
}

async function memoryOf(pid: number) {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rssMiB: field("VmRSS") / 1024, anonMiB: field("RssAnon") / 1024, threads: field("Threads") };
}

const tmp = await mkdtemp(path.join(os.tmpdir(), "cellblock-bench-rss-"));
await chmod(tmp, 0o711);
const redis = await RedisServer.start({ dir: path.join(tmp, "redis") });
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: redis.url,
  HOST: "127.0.0.1",
  PORT: "0",
  QUEUE_PREFIX: "bench-rss",
  WORK_ROOT: path.join(tmp, "work"),
  LOG_LEVEL: "warn",
  WORKER_SLOTS: flags.slots,
  JOB_ATTEMPTS: "1",
  MAX_QUEUED_JOBS: String(step + 1000),
  MAX_BATCH_JOBS: String(step),
  // Results are not what is measured: keep Redis small.
  RESULT_TTL_S: "60",
  ...(flags["arena-max"] ? { MALLOC_ARENA_MAX: flags["arena-max"] } : {}),
};
const config = loadConfig(env);
const api = await startApi(config, pino({ level: "warn" }));
const inspectPort = await freePort();
const worker = await startWorkerProcess({ ...env, NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` });
const inspector = await connectInspector(inspectPort);
const points: { jobs: number; rssMiB: number; anonMiB: number; threads: number; jsHeapMiB: number }[] = [];
try {
  const t0 = Date.now();
  for (let done = 0; done < totalJobs && Date.now() < deadline; done += step) {
    const jobs = Array.from({ length: step }, () => ({ language: "bash", source: "true" }));
    const response = await fetch(`${api.url}/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobs }),
    });
    if (response.status !== 202)
      throw new Error(`POST /batches: ${response.status} ${await response.text()}`);
    const { id } = await response.json();
    let finished = false;
    while (!finished && Date.now() < deadline) {
      const view = await (await fetch(`${api.url}/batches/${id}?limit=0`)).json();
      finished = view.status === "finished";
      if (!finished) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (!finished) {
      console.log(`deadline passed during jobs ${done + 1}..${done + step}: the figures stop at ${done}`);
      break;
    }
    const { jsHeapMiB } = await inspector.collect();
    const point = { jobs: done + step, jsHeapMiB, ...(await memoryOf(worker.pid)) };
    points.push(point);
    console.log(
      `${point.jobs} jobs  rss ${point.rssMiB.toFixed(1)} MiB  anon ${point.anonMiB.toFixed(1)} MiB  js heap ${jsHeapMiB.toFixed(1)} MiB  threads ${point.threads}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  const first = points[0];
  const last = points.at(-1);
  if (first && last) {
    console.log(
      JSON.stringify({
        slots: Number(flags.slots),
        arenaMax: flags["arena-max"] ?? null,
        jobs: last.jobs,
        rssAfterFirstStepMiB: Number(first.rssMiB.toFixed(1)),
        rssAfterAllMiB: Number(last.rssMiB.toFixed(1)),
        rssGrowthMiB: Number((last.rssMiB - first.rssMiB).toFixed(1)),
        anonGrowthMiB: Number((last.anonMiB - first.anonMiB).toFixed(1)),
        jsHeapGrowthMiB: Number((last.jsHeapMiB - first.jsHeapMiB).toFixed(1)),
        perThousandJobsMiB: Number(
          (((last.rssMiB - first.rssMiB) / (last.jobs - first.jobs)) * 1000).toFixed(2),
        ),
      }),
    );
  }
} finally {
  inspector.close();
  await worker.kill("SIGTERM");
  await api.close();
  await redis.stop();
  await rm(tmp, { recursive: true, force: true });
}
