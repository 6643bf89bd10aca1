import { parseArgs } from "node:util";
import { startBenchService } from "./bench-service.ts";

// `npm run bench:compat`: what the Judge0 and Piston layers cost on top of our own API. One
// redis-server, API and worker process of its own on 127.0.0.1; the same python hello world sent
// as POST /run, as a Judge0 `POST /judge0/submissions?wait=true` and as a Piston
// `POST /api/v2/execute`, interleaved one by one at concurrency 1 (absolute times drift between
// runs on this machine; the differences within one run are the point). Bounded by --runs and
// --max-seconds.

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    "max-seconds": { type: "string", default: "300" },
  },
});
const runs = Number(flags.runs);
const deadline = Date.now() + Number(flags["max-seconds"]) * 1000;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
const fmt = (n: number) => n.toFixed(2).padStart(9);

const service = await startBenchService("bench-compat", {
  ...process.env,
  WORKER_SLOTS: "2",
  RESULT_TTL_S: "60",
});
const { api } = service;
const source = 'print("hello, world")\n';

async function post(pathname: string, body: unknown, check: (answer: unknown) => boolean) {
  const t0 = process.hrtime.bigint();
  const response = await fetch(`${api.url}${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!check(answer)) throw new Error(`${pathname}: ${response.status} ${JSON.stringify(answer)}`);
  return elapsed;
}

const routes = [
  {
    name: "POST /run",
    send: () =>
      post("/run", { language: "python", source }, (a) => (a as { verdict?: string }).verdict === "ok"),
  },
  {
    name: "Judge0 wait=true",
    send: () =>
      post(
        "/judge0/submissions?wait=true",
        { language_id: 71, source_code: source },
        (a) => (a as { status?: { id: number } }).status?.id === 3,
      ),
  },
  {
    name: "Piston execute",
    send: () =>
      post(
        "/api/v2/execute",
        { language: "python", version: "*", files: [{ content: source }] },
        (a) => (a as { run?: { code: number } }).run?.code === 0,
      ),
  },
];

const times = routes.map(() => [] as number[]);
try {
  for (const route of routes) for (let i = 0; i < 10; i++) await route.send();
  for (let i = 0; i < runs && Date.now() < deadline; i++)
    for (const [index, route] of routes.entries()) times[index]?.push(await route.send());
  const base = [...(times[0] ?? [])].sort((a, b) => a - b);
  console.log("python hello, concurrency 1 (ms)   p50       p99       p50 − /run");
  for (const [index, route] of routes.entries()) {
    const sorted = [...(times[index] ?? [])].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    console.log(
      `  ${route.name.padEnd(20)} (n=${sorted.length}) ${fmt(p50)} ${fmt(percentile(sorted, 0.99))} ${fmt(p50 - percentile(base, 0.5))}`,
    );
  }
} finally {
  await service.stop();
}
