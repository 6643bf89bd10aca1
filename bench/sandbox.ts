// npm run bench:sandbox [-- --runs 300 --rounds 3 --pause 3]
// Per-run latency of a fresh container for /bin/true and python3 -c pass, side by side in one run
// with the same commands spawned bare (posix_spawn from a small C loop) and under bubblewrap, in
// alternating rounds so that machine drift hits every variant alike; then runs/s with 1 and 2
// concurrent slots. Prints a table with medians, p99 and ratios.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { configureSandbox, releaseStandbys, runSandbox, type SandboxSpec } from "../native/index.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "300" },
    rounds: { type: "string", default: "3" },
    // ms between prewarmed runs (untimed; "bare, spaced" is spawned as far apart). On cgroup v1
    // attaching a container to its cgroup waits for an RCU grace period (10-20 ms here, about one
    // attach in seven) when moves are rare; a stream's containers are attached a run ahead (the
    // spare: native/src/slot-runner.h), which hides that at the service's spacing of a slot's jobs
    // (its own round trip, ~15 ms here at concurrency 1: try --pause 15) but not at 3 ms, where
    // the making of containers and the runs share two cores and a wait still reaches the run.
    pause: { type: "string", default: "3" },
  },
});
const runsPerRound = Number(values.runs);
const rounds = Number(values.rounds);
const pauseMs = Number(values.pause);
const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), "cellblock-bench-"));
chmodSync(work, 0o711); // the box dirs below are mounted with the sandbox users' credentials
const loop = join(work, "spawn-loop");
execFileSync("gcc", ["-O2", "-o", loop, join(here, "spawn-loop.c")]);
const bwrap = ["/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/usr", "/usr"]
  .concat([
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/bin",
    "/bin",
  ])
  .concat(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--"]);
const haveBwrap = existsSync(bwrap[0] as string);

const COMMANDS: Record<string, string[]> = {
  "/bin/true": ["/bin/true"],
  "python3 -c pass": ["/usr/bin/python3", "-c", "pass"],
};

function spec(argv: string[], slot: number, box?: string): SandboxSpec {
  return {
    rootfs: { kind: "host" },
    binds: box ? [{ source: box, target: "/box", writable: false }] : [],
    argv,
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/",
    stdin: Buffer.alloc(0),
    limits: {
      cpuTimeMs: 5000,
      wallTimeMs: 10000,
      memoryBytes: 256 << 20,
      pids: 64,
      outputBytes: 65536,
      fileSizeBytes: 1 << 24,
      openFiles: 256,
      stackBytes: 8 << 20,
      tmpfsBytes: 64 << 20,
      cpuQuotaPercent: 0,
    },
    slot,
  };
}

// "prewarm": the worker's mode, where a slot prepares its next container while idle (here, with
// one spec repeated, made ahead all the way: mounted, its init waiting; madeAhead counts them). Runs
// are spaced by a short untimed pause, as jobs are in the service (HTTP + queue hand-off).
// "own dir": prewarm as the worker runs jobs, each with its own work dir (made untimed) bound
// read-only at /box: made ahead, that dir is handed over at the run's go (native/src/hand-over.c);
// "own dir, no h-o" turns the hand-over off, so the request never repeats and every container is
// made at its run's go (what the worker did before the hand-over), in the same run for the ratio.
type Variant = "cellblock" | "+prewarm" | "own dir" | "own dir, no h-o";
const madeAhead: Record<string, { runs: number; ahead: number }> = {};
async function sandboxRuns(argv: string[], n: number, variant: Variant = "cellblock"): Promise<number[]> {
  const prewarm = variant !== "cellblock";
  configureSandbox({ prewarm, handOver: variant !== "own dir, no h-o" });
  const ownDir = variant.startsWith("own dir");
  const count = madeAhead[variant] ?? { runs: 0, ahead: 0 };
  madeAhead[variant] = count;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    if (prewarm) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const box = ownDir ? mkdtempSync(join(work, "box-")) : undefined;
    if (box) chmodSync(box, 0o755);
    const t0 = performance.now();
    const r = await runSandbox(spec(argv, 0, box));
    times.push(performance.now() - t0);
    if (prewarm) count.runs++;
    if (r.madeAhead) count.ahead++;
    if (r.status !== "ok") throw new Error(`sandbox run failed: ${JSON.stringify(r.setupError ?? r.status)}`);
  }
  return times;
}

function loopRuns(argv: string[], n: number, pause = 0): number[] {
  const out = execFileSync(loop, [String(n), String(Math.round(pause * 1000)), ...argv], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return out
    .trim()
    .split("\n")
    .map((us) => Number(us) / 1000);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function throughput(argv: string[], slots: number, seconds: number): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: slots }, async (_, slot) => {
      while (performance.now() < end) {
        await runSandbox(spec(argv, slot));
        done++;
      }
    }),
  );
  return done / seconds;
}

const f = (ms: number) => ms.toFixed(2).padStart(8);
try {
  await sandboxRuns(["/bin/true"], 20); // warm-up: page cache, seccomp compile, cgroup parents
  console.log(
    `cellblock sandbox benchmark: ${rounds} rounds x ${runsPerRound} runs per variant, ms per run (prewarmed runs ${pauseMs} ms apart)\n`,
  );
  console.log(
    `${"command".padEnd(17)}${"variant".padEnd(16)}${"p50".padStart(8)}${"p99".padStart(8)}  vs bare  vs bwrap`,
  );
  for (const [name, argv] of Object.entries(COMMANDS)) {
    const n = name === "/bin/true" ? runsPerRound : Math.max(20, Math.floor(runsPerRound / 5));
    const samples: Record<string, number[]> = {
      cellblock: [],
      "+prewarm": [],
      "own dir": [],
      "own dir, no h-o": [],
      bare: [],
      "bare, spaced": [],
      bwrap: [],
    };
    for (let round = 0; round < rounds; round++) {
      samples.bare?.push(...loopRuns(argv, n));
      samples["bare, spaced"]?.push(...loopRuns(argv, n, pauseMs));
      for (const variant of ["cellblock", "+prewarm", "own dir", "own dir, no h-o"] as const) {
        samples[variant]?.push(...(await sandboxRuns(argv, n, variant)));
        await releaseStandbys();
      }
      if (haveBwrap) samples.bwrap?.push(...loopRuns([...bwrap, ...argv], n));
    }
    const p50: Record<string, number> = {};
    for (const [variant, xs] of Object.entries(samples)) {
      if (xs.length === 0) continue;
      xs.sort((a, b) => a - b);
      p50[variant] = pct(xs, 50);
    }
    for (const [variant, xs] of Object.entries(samples)) {
      if (xs.length === 0) continue;
      const ratio = (ref: string) => (p50[ref] ? `${(pct(xs, 50) / (p50[ref] as number)).toFixed(2)}x` : "-");
      console.log(
        `${name.padEnd(17)}${variant.padEnd(16)}${f(pct(xs, 50))}${f(pct(xs, 99))}  ${ratio("bare").padStart(7)}  ${ratio("bwrap").padStart(7)}`,
      );
    }
    if (p50.cellblock && p50.bare)
      console.log(`${"".padEnd(17)}cellblock - bare = ${(p50.cellblock - p50.bare).toFixed(2)} ms (p50)`);
    // The prewarmed runs come a pause apart, so their reference is bare spawned a pause apart.
    const bare = samples["bare, spaced"] ?? [];
    for (const variant of ["+prewarm", "own dir", "own dir, no h-o"]) {
      const warm = samples[variant] ?? [];
      const made = madeAhead[variant] ?? { runs: 0, ahead: 0 };
      if (warm.length > 0 && bare.length > 0)
        console.log(
          `${"".padEnd(17)}${variant} - bare, spaced = ${(pct(warm, 50) - pct(bare, 50)).toFixed(2)} ms (p50), ${(pct(warm, 99) - pct(bare, 99)).toFixed(2)} ms (p99); ${made.ahead} of ${made.runs} made ahead`,
        );
    }
    for (const key of Object.keys(madeAhead)) delete madeAhead[key];
  }
  configureSandbox({ prewarm: false });
  console.log("\nthroughput, /bin/true, 5 s each:");
  for (const slots of [1, 2])
    console.log(`  ${slots} slot(s): ${(await throughput(["/bin/true"], slots, 5)).toFixed(0)} runs/s`);
} finally {
  await releaseStandbys();
  rmSync(work, { recursive: true, force: true });
}
