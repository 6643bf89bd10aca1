import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { freePort } from "../redis/free-port.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { startWorkerProcess } from "../test/helpers/worker-process.ts";

// `npm run bench:budget`: what one job costs the service, measured, not estimated. The API and the
// worker run as their own processes against a private redis-server; this process is only the HTTP
// client (keep-alive, like a real one). For each path — POST /run, and POST /jobs then one GET
// once the job is done — it counts every command Redis receives (MONITOR), by the process that sent
// it (socket owners from `ss`), with BullMQ's Lua scripts named (their SHA-1 is matched against
// BullMQ's own script texts), and the CPU each process spends per job (/proc/<pid>/stat). With
// --profile it also writes V8 CPU profiles of the API and the worker and sums their self time by
// part (our folders, each package, GC), which is where "CPU µs per part" in the architecture doc
// comes from.

const { values: flags } = parseArgs({
  options: {
    jobs: { type: "string", default: "300" },
    profile: { type: "boolean", default: false },
  },
});
const jobs = Number(flags.jobs);
const root = path.resolve(import.meta.dirname, "..");

const tmp = await mkdtemp(path.join(os.tmpdir(), "cellblock-budget-"));
await chmod(tmp, 0o711);
const profileDir = path.join(tmp, "profiles");
await mkdir(profileDir);
const redisServer = await RedisServer.start({ dir: path.join(tmp, "redis") });
const port = await freePort();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: redisServer.url,
  HOST: "127.0.0.1",
  PORT: String(port),
  LOG_LEVEL: "warn",
  QUEUE_PREFIX: "budget",
  WORK_ROOT: path.join("/dev/shm", path.basename(tmp)),
  MAX_QUEUED_JOBS: "100000",
  WORKER_SLOTS: "2",
  RESULT_TTL_S: "60",
  ...(flags.profile
    ? {
        NODE_OPTIONS: `--import ${path.join(root, "bench/cpu-profile-preload.mjs")}`,
        CPU_PROFILE_DIR: profileDir,
      }
    : {}),
};
const base = `http://127.0.0.1:${port}`;

/** BullMQ's scripts by the SHA-1 ioredis sends them under (EVALSHA). */
async function bullScriptNames(): Promise<Map<string, string>> {
  const dir = path.join(root, "node_modules/bullmq/dist/esm/scripts");
  const names = new Map<string, string>();
  for (const file of await readdir(dir)) {
    if (!file.endsWith(".js") || file === "index.js") continue;
    const module = (await import(path.join(dir, file))) as Record<
      string,
      { name?: string; content?: string }
    >;
    for (const value of Object.values(module)) {
      if (value?.name && value.content)
        names.set(createHash("sha1").update(value.content).digest("hex"), value.name);
    }
  }
  return names;
}

function startApiProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "app/api-main.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = () =>
      fetch(`${base}/healthz`).then(
        () => resolve(child),
        () => (Date.now() > deadline ? reject(new Error("API did not start")) : setTimeout(poll, 100)),
      );
    poll();
  });
}

/** utime + stime of a process in µs, and its read- and write-family system calls (/proc/<pid>/io). */
async function processCounters(pid: number): Promise<{ cpu: number; reads: number; writes: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const io = await readFile(`/proc/${pid}/io`, "utf8");
  const count = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? Number.NaN);
  return {
    cpu: ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100, // clock ticks are 1/100 s here
    reads: count("syscr"),
    writes: count("syscw"),
  };
}

/** Which pid owns each local address connected to Redis. */
function socketOwners(redisPort: number): Map<string, number> {
  const out = execFileSync("ss", ["-tnpH", `dport = :${redisPort}`], { encoding: "utf8" });
  const owners = new Map<string, number>();
  for (const line of out.split("\n")) {
    const local = line.trim().split(/\s+/)[3];
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (local && pid) owners.set(local, Number(pid));
  }
  return owners;
}

async function post(
  route: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const job = { language: "bash", source: "true\n" };

async function runPath() {
  const reply = await post("/run", job);
  if (reply.status !== 200 || reply.body.verdict !== "ok")
    throw new Error(`POST /run: ${JSON.stringify(reply)}`);
}

async function jobsPath(done: Redis) {
  const reply = await post("/jobs", job);
  const id = reply.body.id as string;
  // The bench's own connection (not counted) waits for the job's last event.
  const key = `budget:events:${id}`;
  let after = "0-0";
  for (;;) {
    const read = (await done.xread("BLOCK", 5000, "STREAMS", key, after)) as
      | [string, [string, string[]][]][]
      | null;
    const entries = read?.[0]?.[1] ?? [];
    after = entries.at(-1)?.[0] ?? after;
    if (entries.some(([, fields]) => /"type":"job\.(finished|failed)"/.test(fields[1] ?? ""))) break;
  }
  // The result is stored by the worker's moveToFinished right after its last event.
  for (;;) {
    const response = await fetch(`${base}/jobs/${id}`);
    const view = (await response.json()) as { status: string };
    if (view.status === "completed") return;
    if (view.status === "failed") throw new Error(`job ${id} failed`);
  }
}

async function measure(
  name: string,
  task: () => Promise<void>,
  pids: Record<string, number>,
  skip: Set<string>,
) {
  const monitor = new Redis(redisServer.url);
  const scripts = await bullScriptNames();
  const seen: { source: string; label: string; lua: boolean }[] = [];
  const m = await monitor.monitor();
  m.on("monitor", (_time: string, args: string[], source: string) => {
    const command = (args[0] ?? "").toUpperCase();
    let label = command;
    if (command === "EVALSHA") label = `EVALSHA ${scripts.get(args[1] ?? "") ?? (args[1] ?? "").slice(0, 8)}`;
    if (command === "EVAL") label = `EVAL ${/redis\.call\('(\w+)'/.exec(args[1] ?? "")?.[1] ?? "?"}…`;
    seen.push({ source, label, lua: source === "lua" });
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = seen.length;
  for (let i = 0; i < jobs; i++) await task();
  // Let trailing, unawaited writes (events, metrics) arrive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const owners = socketOwners(redisServer.port);
  const nameOf = new Map(Object.entries(pids).map(([k, pid]) => [pid, k]));
  const counts = new Map<string, Map<string, number>>();
  let lastOwner = "?";
  for (const entry of seen.slice(started)) {
    if (skip.has(entry.source)) continue;
    // Commands a script runs are listed right after the script, with source "lua".
    const owner = entry.lua
      ? `${lastOwner} (inside scripts)`
      : (nameOf.get(owners.get(entry.source) ?? -1) ?? entry.source);
    if (!entry.lua) lastOwner = owner;
    const row = counts.get(owner) ?? new Map<string, number>();
    row.set(entry.label, (row.get(entry.label) ?? 0) + 1);
    counts.set(owner, row);
  }
  m.disconnect();
  monitor.disconnect();
  // CPU on a second pass: MONITOR itself costs Redis (and its clients' replies) dearly.
  const cpu = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(pids).map(async ([k, pid]) => [k, await processCounters(pid)] as const),
      ),
    );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = await cpu();
  const t0 = performance.now();
  const window = { name, from: process.hrtime.bigint() / 1000n, to: 0n };
  for (let i = 0; i < jobs; i++) await task();
  window.to = process.hrtime.bigint() / 1000n;
  windows.push(window);
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await cpu();
  console.log(`\n${name}: ${jobs} jobs one after another, ${(jobs / seconds).toFixed(0)} jobs/s`);
  for (const [owner, row] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    const sum = [...row.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${owner}: ${(sum / jobs).toFixed(2)} commands per job`);
    for (const [label, count] of [...row].sort(([, a], [, b]) => b - a))
      console.log(`      ${(count / jobs).toFixed(2).padStart(6)}  ${label}`);
  }
  // read/write-family system calls: each socket write (a Redis pipeline, an HTTP response) is one.
  console.log("  per job:  CPU µs   reads  writes");
  for (const k of Object.keys(pids)) {
    const per = (field: "cpu" | "reads" | "writes") =>
      (((after[k]?.[field] ?? 0) - (before[k]?.[field] ?? 0)) / jobs).toFixed(field === "cpu" ? 0 : 1);
    console.log(
      `      ${k.padEnd(8)} ${per("cpu").padStart(6)} ${per("reads").padStart(7)} ${per("writes").padStart(7)}`,
    );
  }
}

/** The measured stretches, in µs of CLOCK_MONOTONIC (the clock V8 stamps profile samples with). */
const windows: { name: string; from: bigint; to: bigint }[] = [];

/** Self time of a V8 CPU profile within the measured stretches, grouped by part. */
async function profileParts(file: string): Promise<Map<string, Map<string, number>>> {
  const profile = JSON.parse(await readFile(file, "utf8")) as {
    nodes: { id: number; callFrame: { url: string; functionName: string } }[];
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const partOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    let part = url;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    if (pkg) part = pkg;
    else if (url.startsWith("file://")) part = path.relative(root, new URL(url).pathname);
    else if (url.startsWith("node:")) part = "node (internals)";
    else if (!url) part = functionName.startsWith("(") ? functionName : `native ${functionName}`;
    partOf.set(node.id, part);
  }
  const byWindow = new Map<string, Map<string, number>>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const stamp = BigInt(Math.round(at));
    const window = windows.find((w) => stamp >= w.from && stamp <= w.to);
    const part = partOf.get(id) ?? "?";
    if (!window || part === "(idle)") return;
    const totals = byWindow.get(window.name) ?? new Map<string, number>();
    totals.set(part, (totals.get(part) ?? 0) + delta);
    byWindow.set(window.name, totals);
  });
  return byWindow;
}

/** Redis and the bench's dirs: removed however the bench ends, start-up failures included. */
async function cleanUp(): Promise<void> {
  await redisServer.stop();
  await rm(tmp, { recursive: true, force: true });
  await rm(env.WORK_ROOT as string, { recursive: true, force: true });
}

let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
let api: ChildProcess;
try {
  worker = await startWorkerProcess(env);
  api = await startApiProcess();
} catch (error) {
  await worker?.kill("SIGTERM");
  await cleanUp();
  throw error;
}
const probe = new Redis(redisServer.url);
const redisPid = Number(/process_id:(\d+)/.exec(await probe.info("server"))?.[1]);
probe.disconnect();
const pids = { api: api.pid as number, worker: worker.pid, redis: redisPid };
const waiter = new Redis(redisServer.url);
try {
  for (let i = 0; i < 30; i++) await runPath();
  await waiter.ping();
  const skip = new Set([
    `127.0.0.1:${(waiter as unknown as { stream: { localPort: number } }).stream.localPort}`,
  ]);
  await measure("POST /run (bash true)", runPath, pids, skip);
  await measure("POST /jobs + GET /jobs/:id once done (bash true)", () => jobsPath(waiter), pids, skip);
} finally {
  waiter.disconnect();
  const apiExit = new Promise((resolve) => api.once("exit", resolve));
  api.kill("SIGTERM");
  await apiExit;
  await worker.kill("SIGTERM");
  if (flags.profile) {
    for (const file of await readdir(profileDir)) {
      const pid = Number(/\.(\d+)\./.exec(file)?.[1]);
      const who = Object.entries(pids).find(([, p]) => p === pid)?.[0] ?? file;
      for (const [phase, totals] of await profileParts(path.join(profileDir, file))) {
        const parts = [...totals].sort(([, a], [, b]) => b - a);
        const total = parts.reduce((sum, [, us]) => sum + us, 0);
        console.log(`\n${who}, ${phase}: JS-thread CPU by part, ${(total / jobs).toFixed(0)} µs per job`);
        for (const [part, us] of parts.slice(0, 22))
          console.log(`  ${(us / jobs).toFixed(0).padStart(6)} µs  ${part}`);
      }
    }
  }
  await cleanUp();
}
