import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import pino from "pino";
import { startApi } from "../api/start-api.ts";
import { loadConfig } from "../config/load-config.ts";
import { QUEUE_NAME } from "../contract/queue.ts";
import { resolveRunLimits } from "../contract/resolve-limits.ts";
import { workerUidBase } from "../contract/sandbox-identity.ts";
import { configureSandbox, runSandbox } from "../native/index.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { startWorkerProcess, type WorkerProcess } from "../test/helpers/worker-process.ts";
import { buildSandboxSpec } from "../worker/build-sandbox-spec.ts";
import { measureFanOut } from "./fan-out-job.ts";
import { hostLanguages } from "./host-languages.ts";

// `npm run bench:batch [-- --jobs 10000 --batch-size 1000 --sandbox-runs 2000 --max-seconds 900]`:
// trivial bash jobs submitted as batches against 2 worker processes (1 slot each), then the
// sandbox alone (runSandbox of bash `true`, 2 concurrent) in the same run for the ratio. Reports
// jobs/s, p50/p99 queue wait (BullMQ's processedOn − timestamp), verdicts, lost jobs, and leftover
// cgroups and sandbox processes after the workers stop. Then one 50-test python job on a worker
// with 2 slots vs 1, with the sandbox-only reference (bench/fan-out-job.ts). 127.0.0.1 only;
// everything is bounded.

const { values: flags } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    "batch-size": { type: "string", default: "1000" },
    "sandbox-runs": { type: "string", default: "2000" },
    "max-seconds": { type: "string", default: "900" },
    "fan-out-tests": { type: "string", default: "50" },
    "fan-out-repeats": { type: "string", default: "3" },
  },
});
const totalJobs = Number(flags.jobs);
const batchSize = Number(flags["batch-size"]);
const sandboxRuns = Number(flags["sandbox-runs"]);
const deadline = Date.now() + Number(flags["max-seconds"]) * 1000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** cellblock cgroup dirs (`/sys/fs/cgroup/<controller>/cellblock/*` on v1, `/sys/fs/cgroup/cellblock/*` on v2). */
async function cgroupDirs(): Promise<Set<string>> {
  const found = new Set<string>();
  const roots = [
    "/sys/fs/cgroup/cellblock",
    ...(await readdir("/sys/fs/cgroup").catch(() => [])).map((c) => `/sys/fs/cgroup/${c}/cellblock`),
  ];
  for (const root of roots) {
    for (const entry of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) found.add(`${root}/${entry.name}`);
    }
  }
  return found;
}

/** Processes running as a sandbox host uid of this bench's workers. */
function sandboxProcesses(uidFrom: number, uidTo: number): number {
  const out = execFileSync("ps", ["-e", "-o", "uid="], { encoding: "utf8" });
  return out
    .split("\n")
    .map(Number)
    .filter((uid) => uid >= uidFrom && uid < uidTo).length;
}

const tmp = await mkdtemp(path.join(os.tmpdir(), "cellblock-bench-batch-"));
await chmod(tmp, 0o711);
const redis = await RedisServer.start({ dir: path.join(tmp, "redis") });
const env = {
  ...process.env,
  REDIS_URL: redis.url,
  HOST: "127.0.0.1",
  PORT: "0",
  QUEUE_PREFIX: "bench-batch",
  WORK_ROOT: path.join(tmp, "work"),
  LOG_LEVEL: "warn",
  WORKER_SLOTS: "1",
  JOB_ATTEMPTS: "1",
  MAX_QUEUED_JOBS: String(totalJobs + 1000),
  MAX_BATCH_JOBS: String(batchSize),
};
const config = loadConfig(env);
const cgroupsBefore = await cgroupDirs();
const api = await startApi(config, pino({ level: "warn" }));
const workers: WorkerProcess[] = [];
const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: config.queue.QUEUE_PREFIX });
try {
  for (const offset of [0, 1])
    workers.push(await startWorkerProcess({ ...env, SANDBOX_SLOT_OFFSET: String(offset) }));

  // 1. The service: batches of trivial jobs.
  const post = (body: unknown) =>
    fetch(`${api.url}/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const t0 = Date.now();
  const batchIds: string[] = [];
  for (let sent = 0; sent < totalJobs; sent += batchSize) {
    const jobs = Array.from({ length: Math.min(batchSize, totalJobs - sent) }, () => ({
      language: "bash",
      source: "true",
    }));
    const response = await post({ jobs });
    if (response.status !== 202)
      throw new Error(`POST /batches: ${response.status} ${await response.text()}`);
    batchIds.push((await response.json()).id);
  }
  const unfinished = new Set(batchIds);
  while (unfinished.size > 0 && Date.now() < deadline) {
    for (const id of [...unfinished]) {
      const view = await (await fetch(`${api.url}/batches/${id}?limit=0`)).json();
      if (view.status === "finished") unfinished.delete(id);
    }
    if (unfinished.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const serviceSeconds = (Date.now() - t0) / 1000;
  const completed = await queue.getCompleted(0, -1);
  const waitsMs = completed.map((job) => (job.processedOn ?? 0) - job.timestamp).sort((a, b) => a - b);
  const verdicts: Record<string, number> = {};
  for (const job of completed)
    verdicts[job.returnvalue.verdict] = (verdicts[job.returnvalue.verdict] ?? 0) + 1;
  const serviceRate = completed.length / serviceSeconds;

  for (const worker of workers) await worker.kill("SIGTERM");
  const uidBase = config.sandbox.uidBase;
  const leftoverCgroups = [...(await cgroupDirs())].filter((dir) => !cgroupsBefore.has(dir));
  // The two workers' slots (offsets 0 and 1, one slot each).
  const leftoverProcesses = sandboxProcesses(uidBase, workerUidBase(uidBase, 2));

  // 2. The sandbox alone, same program, 2 concurrent (one per core, like the 2 workers), in a uid
  // range far from the workers'.
  configureSandbox({ uidBase: workerUidBase(uidBase, 1000) });
  const bash = (await hostLanguages(config)).get("bash");
  if (!bash) throw new Error("bash language missing");
  const spec = (slot: number) =>
    buildSandboxSpec({
      language: bash,
      argv: ["/bin/bash", "-c", "true"],
      workDir: null,
      stdin: Buffer.alloc(0),
      limits: resolveRunLimits({}, bash, config.limits),
      slot,
      sandbox: config.sandbox,
    });
  let next = 0;
  const s0 = Date.now();
  await Promise.all(
    [0, 1].map(async (slot) => {
      while (next < sandboxRuns && Date.now() < deadline) {
        next++;
        await runSandbox(spec(slot));
      }
    }),
  );
  const sandboxRate = next / ((Date.now() - s0) / 1000);

  // 3. One job's tests fanned out: a worker with 2 slots vs 1 (bench/fan-out-job.ts).
  const fanOut = await measureFanOut(env, api.url, config, {
    tests: Number(flags["fan-out-tests"]),
    repeats: Number(flags["fan-out-repeats"]),
    referenceSlots: [0, 1],
  });

  console.log(
    JSON.stringify(
      {
        jobs: totalJobs,
        completed: completed.length,
        lost: totalJobs - completed.length,
        verdicts,
        serviceSeconds: Number(serviceSeconds.toFixed(1)),
        serviceJobsPerSecond: Number(serviceRate.toFixed(1)),
        queueWaitMs: { p50: percentile(waitsMs, 0.5), p99: percentile(waitsMs, 0.99) },
        sandboxOnlyRunsPerSecond: Number(sandboxRate.toFixed(1)),
        ratioServiceToSandbox: Number((serviceRate / sandboxRate).toFixed(2)),
        leftoverCgroups: leftoverCgroups.length,
        leftoverSandboxProcesses: leftoverProcesses,
        fanOutJob: fanOut,
      },
      null,
      2,
    ),
  );
} finally {
  for (const worker of workers) await worker.kill("SIGKILL");
  await queue.close();
  await api.close();
  await redis.stop();
  await rm(tmp, { recursive: true, force: true });
}
