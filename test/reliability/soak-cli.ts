import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_UID_BASE } from "../../contract/sandbox-identity.ts";
import { freePort } from "../../redis/free-port.ts";
import { connectRedis } from "../../redis/redis-connection.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis } from "../helpers/redis.ts";
import { startWorkerProcess } from "../helpers/worker-process.ts";
import { hostLeftovers } from "./chaos/host-leftovers.ts";
import { formatSamples, growthProblems, type SoakSample, takeSample } from "./soak/soak-sample.ts";

// `npm run soak -- --jobs 10000 [--every 1000 --batch 100 --slots 2]`: the API and one worker as
// their own processes against a fresh redis-server, fed batches of mixed small jobs (bash, Python,
// C with tests; ok, runtime error, wrong answer) until --jobs have finished. After every --every
// jobs, with the queue drained, it samples the worker's and the API's RSS and fds, Redis memory and
// keys, run cgroups, sandbox processes, work dirs, mounts and the host's memcg count, prints the
// table with the trend per 1,000 jobs, and exits 1 when something grew (soak/soak-sample.ts says
// what counts). Results expire after 60 s here so Redis levels off within a short run.

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "10000" },
    every: { type: "string", default: "1000" },
    batch: { type: "string", default: "100" },
    slots: { type: "string", default: "2" },
  },
});
const totalJobs = Number(values.jobs);
const every = Number(values.every);
const batchSize = Number(values.batch);
const slots = Number(values.slots);
const SLOT_OFFSET = 170;

const mix = [
  { language: "bash", source: "echo soak" },
  { language: "python", source: "print(input()[::-1])", stdin: "soak\n" },
  { language: "bash", source: "exit 1" },
  {
    language: "bash",
    source: "read a b; echo $((a + b))",
    tests: [{ stdin: "1 2\n", expectedOutput: "3\n" }],
  },
  { language: "python", source: "print(2)", tests: [{ stdin: "", expectedOutput: "3" }] },
];
const compiled = {
  language: "c",
  source: '#include <stdio.h>\nint main(){puts("soak");}',
  tests: [{ stdin: "", expectedOutput: "soak\n" }],
};

const redis = await startTestRedis();
const workRoot = await mkdtemp(path.join(os.tmpdir(), "cellblock-soak-work-"));
const port = await freePort();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  REDIS_URL: redis.url,
  HOST: "127.0.0.1",
  PORT: String(port),
  QUEUE_PREFIX: `soak${randomUUID().slice(0, 6)}`,
  WORK_ROOT: workRoot,
  API_KEYS: "",
  WORKER_SLOTS: String(slots),
  SANDBOX_SLOT_OFFSET: String(SLOT_OFFSET),
  RESULT_TTL_S: "60",
  MAX_BATCH_JOBS: String(Math.max(1000, batchSize)),
  LOG_LEVEL: "warn",
};
const client = connectRedis({ REDIS_URL: redis.url }, "soak");
let api: ChildProcess | null = null;
const worker = await startWorkerProcess(env);
try {
  api = spawn(process.execPath, ["--import", "tsx", "app/api-main.ts"], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    { what: "API up" },
  );
  const pids = { worker: worker.pid, api: api.pid as number };
  const scope = {
    workerPids: [worker.pid],
    liveWorkerPids: [worker.pid], // its slots' containers made ahead wait between jobs
    uidBase: DEFAULT_UID_BASE,
    slots: { first: SLOT_OFFSET, end: SLOT_OFFSET + slots },
    workRoot,
  };
  const samples: SoakSample[] = [];
  const started = performance.now();
  console.log(`soak: ${totalJobs} jobs in batches of ${batchSize}, ${slots} slots, a sample every ${every}`);
  let done = 0;
  let batchNumber = 0;
  // Ctrl-C ends the run after the current batch, through the clean-up below (API, worker, Redis).
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
  });
  while (done < totalJobs && !interrupted) {
    const size = Math.min(batchSize, totalJobs - done);
    const jobs = Array.from({ length: size }, (_, i) =>
      i === 0 && batchNumber % 5 === 0 ? compiled : mix[(done + i) % mix.length],
    );
    batchNumber += 1;
    const response = await fetch(`${base}/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobs }),
    });
    const { id } = await response.json();
    if (response.status !== 202) throw new Error(`soak: POST /batches answered ${response.status}`);
    const view = await eventually(async () => (await fetch(`${base}/batches/${id}?limit=0`)).json(), {
      until: (v) => v.status === "finished",
      timeoutMs: 600_000,
      intervalMs: 200,
      what: `batch ${id}`,
    });
    if (view.counts.completed !== size)
      throw new Error(`soak: batch ${id} ended with ${JSON.stringify(view.counts)}`);
    const before = done;
    done += size;
    if (Math.floor(done / every) > Math.floor(before / every) || done === totalJobs) {
      // Work dirs are removed and containers torn down just after each result: let that settle.
      await eventually(() => hostLeftovers(scope), {
        until: (found) => !found.some((line) => line.startsWith("work dir") || line.startsWith("process")),
        timeoutMs: 5000,
        what: "teardown of the last runs",
      }).catch(() => {});
      const sample = await takeSample(done, pids, client, scope);
      samples.push(sample);
      const rate = Math.round(done / ((performance.now() - started) / 1000));
      console.log(`  ${done} jobs (${rate}/s): ${JSON.stringify(sample)}`);
    }
  }
  console.log(`\n${formatSamples(samples)}`);
  const problems = growthProblems(samples, slots);
  for (const problem of problems) console.log(`GROWTH ${problem}`);
  console.log(problems.length === 0 ? "no growth" : `${problems.length} growth problems`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} finally {
  api?.kill("SIGTERM");
  if (api && api.exitCode === null) await new Promise((resolve) => api?.once("exit", resolve));
  await worker.kill("SIGTERM");
  client.disconnect();
  await redis.stop();
  await rm(workRoot, { recursive: true, force: true });
}
