import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { resolveRunLimits } from "../contract/resolve-limits.ts";
import { workerUidBase } from "../contract/sandbox-identity.ts";
import { configureSandbox, releaseStandbys, runSandbox } from "../native/index.ts";
import { buildSandboxSpec } from "../worker/build-sandbox-spec.ts";
import { startBenchService } from "./bench-service.ts";
import { hostLanguages } from "./host-languages.ts";

// `npm run bench:service`: the service against the bare sandbox, side by side in one run, because
// absolute times drift ±10–30 % between runs on this machine. Everything targets 127.0.0.1, its own
// redis-server and its own worker process; counts and total time are bounded.
//   1. POST /run round trip at concurrency 1 (bash `true`, python hello) vs runSandbox() of the same
//      program (prewarmed, as the worker runs it), interleaved; the difference is the service
//      overhead.
//   2. Throughput at concurrency 8 and 32: POST /run vs concurrent runSandbox() calls.
//   3. Worker RSS before and after --jobs jobs.
// At the end, issue 17's service figures next to their targets: POST /run of bash `true` minus the
// sandbox-only time (p50/p99), and trivial jobs/s as a fraction of sandbox-only capacity (at
// concurrency 32). The client is fetch(), which keeps its connections alive (undici's default), as
// the API's server does (HTTP_KEEP_ALIVE_TIMEOUT_MS).

const { values: flags } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    runs: { type: "string", default: "200" },
    "throughput-jobs": { type: "string", default: "400" },
    // Sandbox slots of the bench's worker. The CPU-count default suits CPU-bound jobs; trivial jobs
    // spend most of a run waiting on the kernel, so capacity needs more containers in flight.
    slots: { type: "string", default: "8" },
    "max-seconds": { type: "string", default: "900" },
  },
});
const rssJobs = Number(flags.jobs);
const latencyRuns = Number(flags.runs);
const throughputJobs = Number(flags["throughput-jobs"]);
const deadline = Date.now() + Number(flags["max-seconds"]) * 1000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (n: number) => n.toFixed(2).padStart(9);

async function pool(count: number, concurrency: number, task: (i: number, lane: number) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: concurrency }, async (_, lane) => {
    while (next < count && Date.now() < deadline) await task(next++, lane);
  });
  const t0 = process.hrtime.bigint();
  await Promise.all(lanes);
  return { done: next, seconds: ms(t0) / 1000 };
}

function rssBytes(pid: number): Promise<number> {
  return import("node:fs/promises")
    .then((fs) => fs.readFile(`/proc/${pid}/status`, "utf8"))
    .then((s) => Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? 0) * 1024);
}

const service = await startBenchService("bench", {
  ...process.env,
  MAX_QUEUED_JOBS: "100000",
  WORKER_SLOTS: flags.slots,
  // Results are not needed after the bench; short retention keeps Redis small over 10,000 jobs.
  RESULT_TTL_S: "60",
});
const { api, config, worker, tmp } = service;

// The bench process runs its own sandboxes in a uid range far from the worker's, prewarmed as the
// worker's are (each lane's next container made ahead while it waits), so the reference is the
// sandbox at its fastest and the difference is what the service adds.
configureSandbox({ uidBase: workerUidBase(config.sandbox.uidBase, 1000), prewarm: true });
const languages = await hostLanguages(config);
const programs = [
  { name: "bash true", language: "bash", source: "true\n" },
  { name: "python hello", language: "python", source: 'print("hello, world")\n' },
];

async function directSpec(language: string, source: string, slot: number) {
  const definition = languages.get(language);
  if (!definition) throw new Error(`no language ${language}`);
  const dir = await mkdtemp(path.join(tmp, "box-"));
  // Readable by the sandbox user of any slot, so one dir serves every lane without chown.
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, definition.sourceFile), source, { mode: 0o644 });
  return buildSandboxSpec({
    language: definition,
    argv: definition.run,
    workDir: { path: dir, writable: false },
    stdin: Buffer.alloc(0),
    limits: resolveRunLimits({}, definition, config.limits),
    slot,
    sandbox: config.sandbox,
  });
}

async function postRun(language: string, source: string) {
  const response = await fetch(`${api.url}/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ language, source }),
  });
  const body = (await response.json()) as { verdict?: string };
  if (response.status !== 200 || body.verdict !== "ok")
    throw new Error(`POST /run: ${response.status} ${JSON.stringify(body)}`);
}

const rows: string[] = [];
/** Issue 17's figures, filled in as the bench measures them. */
const targets = { overheadP50: Number.NaN, overheadP99: Number.NaN, capacityRatio: Number.NaN };
try {
  for (let i = 0; i < 20; i++) await postRun("bash", "true");

  rows.push("latency at concurrency 1 (ms)        service p50/p99      sandbox p50/p99     overhead p50/p99");
  for (const program of programs) {
    const spec = await directSpec(program.language, program.source, 0);
    const service: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < latencyRuns && Date.now() < deadline; i++) {
      let t0 = process.hrtime.bigint();
      await postRun(program.language, program.source);
      service.push(ms(t0));
      t0 = process.hrtime.bigint();
      const report = await runSandbox(spec);
      direct.push(ms(t0));
      if (report.status !== "ok")
        throw new Error(`runSandbox ${program.name}: ${JSON.stringify(report.setupError)}`);
    }
    service.sort((a, b) => a - b);
    direct.sort((a, b) => a - b);
    const [s50, s99, d50, d99] = [
      percentile(service, 0.5),
      percentile(service, 0.99),
      percentile(direct, 0.5),
      percentile(direct, 0.99),
    ];
    if (program.name === "bash true")
      Object.assign(targets, { overheadP50: s50 - d50, overheadP99: s99 - d99 });
    rows.push(
      `  ${program.name.padEnd(20)} (n=${service.length})  ${fmt(s50)} ${fmt(s99)}   ${fmt(d50)} ${fmt(d99)}   ${fmt(s50 - d50)} ${fmt(s99 - d99)}`,
    );
  }

  rows.push(
    "",
    `throughput, bash true (jobs/s; worker with ${flags.slots} slots)  service   sandbox only   service/sandbox`,
  );
  for (const concurrency of [8, 32]) {
    const specs = await Promise.all(
      Array.from({ length: concurrency }, (_, slot) => directSpec("bash", "true\n", slot)),
    );
    const service = await pool(throughputJobs, concurrency, () => postRun("bash", "true"));
    const direct = await pool(throughputJobs, concurrency, async (_, lane) => {
      const report = await runSandbox(specs[lane] as (typeof specs)[number]);
      if (report.status !== "ok") throw new Error(`runSandbox: ${report.status}`);
    });
    const s = service.done / service.seconds;
    const d = direct.done / direct.seconds;
    targets.capacityRatio = s / d;
    rows.push(
      `  concurrency ${String(concurrency).padEnd(24)} ${fmt(s)}        ${fmt(d)}        ${((100 * s) / d).toFixed(0).padStart(6)} %`,
    );
  }

  const before = await rssBytes(worker.pid);
  const rss = await pool(rssJobs, 8, () => postRun("bash", "true"));
  const after = await rssBytes(worker.pid);
  rows.push(
    "",
    `worker RSS: ${(before / 2 ** 20).toFixed(1)} MiB before, ${(after / 2 ** 20).toFixed(1)} MiB after ${rss.done} jobs` +
      ` (${(rss.done / rss.seconds).toFixed(0)} jobs/s)`,
  );
  rows.push(
    "",
    "issue 17 targets, this run              measured     target     before round 2",
    `  POST /run bash true − sandbox, p50  ${fmt(targets.overheadP50)} ms   ≤ 3 ms     9.3 ms`,
    `  POST /run bash true − sandbox, p99  ${fmt(targets.overheadP99)} ms   ≤ 10 ms    —`,
    `  trivial jobs/s ÷ sandbox capacity   ${fmt(targets.capacityRatio)}      ≥ 0.8      0.38–0.44`,
  );
} finally {
  console.log(rows.join("\n"));
  await releaseStandbys();
  await service.stop();
}
