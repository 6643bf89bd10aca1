// npm run bench:clone-into-cgroup [-- --runs 40 --rounds 3]
// cgroup v2 only: a container born in its run group (clone3 with CLONE_INTO_CGROUP) against one
// cloned into the worker's group and then moved (a cgroup.procs write), in alternating rounds of
// the same process so machine drift hits both alike. Per run: the clone and attach phases and the
// whole /bin/true run, p50 and p90 in ms. `npm run test:v2`'s VM runs it with
//   bash scripts/v2-vm.sh "$PWD" node --import tsx bench/clone-into-cgroup.ts
import { parseArgs } from "node:util";
import { configureSandbox, runSandbox, type SandboxSpec } from "../native/index.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "40" }, rounds: { type: "string", default: "3" } },
});
const runsPerRound = Number(values.runs);
const rounds = Number(values.rounds);

const spec: SandboxSpec = {
  rootfs: { kind: "host" },
  binds: [],
  argv: ["/bin/true"],
  env: { PATH: "/usr/bin:/bin" },
  cwd: "/",
  stdin: Buffer.alloc(0),
  limits: {
    cpuTimeMs: 5000,
    wallTimeMs: 20000,
    memoryBytes: 64 << 20,
    pids: 16,
    outputBytes: 4096,
    fileSizeBytes: 1 << 20,
    openFiles: 64,
    stackBytes: 8 << 20,
    tmpfsBytes: 1 << 20,
    cpuQuotaPercent: 0,
  },
  slot: 0,
};

type Sample = { clone: number; attach: number; total: number };

async function runs(cloneIntoCgroup: boolean, n: number): Promise<Sample[]> {
  configureSandbox({ cloneIntoCgroup });
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await runSandbox(spec);
    const total = performance.now() - t0;
    if (r.status !== "ok") throw new Error(`sandbox run failed: ${JSON.stringify(r.setupError ?? r.status)}`);
    out.push({ clone: r.phasesMs?.clone ?? Number.NaN, attach: r.phasesMs?.attach ?? Number.NaN, total });
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

if (configureSandbox().cgroupVersion !== 2) {
  console.error("bench:clone-into-cgroup: this host is cgroup v1; CLONE_INTO_CGROUP is a cgroup v2 feature");
  process.exit(2);
}
await runs(true, 5); // warm-up: page cache, seccomp compile, cgroup parents
const samples: Record<string, Sample[]> = { "clone3 into cgroup": [], "clone + migrate": [] };
for (let round = 0; round < rounds; round++) {
  samples["clone3 into cgroup"]?.push(...(await runs(true, runsPerRound)));
  samples["clone + migrate"]?.push(...(await runs(false, runsPerRound)));
}
const f = (ms: number) => ms.toFixed(2).padStart(9);
console.log(`CLONE_INTO_CGROUP vs migration: ${rounds} rounds x ${runsPerRound} runs of /bin/true, ms`);
console.log(
  `${"variant".padEnd(20)}${"clone p50".padStart(10)}${"attach p50".padStart(11)}${"run p50".padStart(9)}${"run p90".padStart(9)}`,
);
for (const [variant, xs] of Object.entries(samples)) {
  const col = (k: keyof Sample, p: number) =>
    pct(
      xs.map((x) => x[k]),
      p,
    );
  console.log(
    `${variant.padEnd(20)}${f(col("clone", 50))}${f(col("attach", 50)).padStart(11)}${f(col("total", 50))}${f(col("total", 90))}`,
  );
}
