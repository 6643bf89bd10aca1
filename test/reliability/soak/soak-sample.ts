import fs from "node:fs";
import type { Redis } from "ioredis";
import { hostLeftovers, type LeftoverScope } from "../chaos/host-leftovers.ts";

// One reading of everything that could grow over a long run: each process's RSS and open fds, Redis
// memory and key count, and what sandboxes leave on the host (run cgroups of the worker, sandbox
// processes, work dirs, mounts), plus the host's memory cgroup count (dying memcgs pile up there
// on cgroup v1; other sessions' runs count too, so it is shown, not judged).

export interface SoakSample {
  jobs: number;
  workerRssMiB: number;
  workerFds: number;
  apiRssMiB: number;
  apiFds: number;
  redisMemoryMiB: number;
  redisKeys: number;
  cgroups: number;
  processes: number;
  workDirs: number;
  mounts: number;
  hostMemcgs: number;
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

const fdCount = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

/** Mounts in the worker's namespace under the sandbox's new-root dir or the work root. */
function sandboxMounts(pid: number, workRoot: string): number {
  return fs
    .readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith("/run/cellblock/") || point.startsWith(`${workRoot}/`)).length;
}

function hostMemcgs(): number {
  const line = fs
    .readFileSync("/proc/cgroups", "utf8")
    .split("\n")
    .find((l) => l.startsWith("memory\t"));
  return Number(line?.split("\t")[2] ?? 0);
}

export async function takeSample(
  jobs: number,
  pids: { worker: number; api: number },
  redis: Redis,
  scope: LeftoverScope,
): Promise<SoakSample> {
  const memory = await redis.info("memory");
  const leftovers = hostLeftovers(scope);
  const kinds = (kind: string) => leftovers.filter((line) => line.startsWith(kind)).length;
  // A run group shows up once per controller on cgroup v1: count groups, not directories.
  const groups = new Set(
    leftovers.filter((line) => line.startsWith("cgroup")).map((line) => line.split("/").at(-1)),
  );
  return {
    jobs,
    workerRssMiB: mib(rssBytes(pids.worker)),
    workerFds: fdCount(pids.worker),
    apiRssMiB: mib(rssBytes(pids.api)),
    apiFds: fdCount(pids.api),
    redisMemoryMiB: mib(Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0)),
    redisKeys: await redis.dbsize(),
    cgroups: groups.size,
    processes: kinds("process"),
    workDirs: kinds("work dir"),
    mounts: sandboxMounts(pids.worker, scope.workRoot),
    hostMemcgs: hostMemcgs(),
  };
}

/** Least-squares slope of `pick` per 1,000 jobs. */
export function slopePerThousand(samples: SoakSample[], pick: (s: SoakSample) => number): number {
  const n = samples.length;
  if (n < 2) return 0;
  const xs = samples.map((s) => s.jobs / 1000);
  const ys = samples.map(pick);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] as number) - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * What grew, judged from the first sample after warm-up to the last. Process memory may wander
 * within a few MiB (allocator arenas, JIT); it fails when it both grew more than the budget and
 * kept climbing. Fds, leftovers and mounts must not grow at all beyond a small slack; Redis keys
 * and memory must level off (results expire after RESULT_TTL_S).
 */
export function growthProblems(samples: SoakSample[], slots: number): string[] {
  const [base, ...rest] = samples;
  const last = rest.at(-1);
  if (!base || !last) return [];
  const problems: string[] = [];
  const memory = (name: string, pick: (s: SoakSample) => number, budgetMiB: number) => {
    const grew = pick(last) - pick(base);
    const slope = slopePerThousand(samples, pick);
    if (grew > budgetMiB && slope > budgetMiB / 10) {
      problems.push(`${name} grew ${grew.toFixed(1)} MiB (${slope.toFixed(2)} MiB per 1,000 jobs)`);
    }
  };
  memory("worker RSS", (s) => s.workerRssMiB, 5);
  memory("API RSS", (s) => s.apiRssMiB, 10);
  const flat = (name: string, pick: (s: SoakSample) => number, slack: number) => {
    if (pick(last) > pick(base) + slack) problems.push(`${name} went from ${pick(base)} to ${pick(last)}`);
  };
  flat("worker fds", (s) => s.workerFds, 4);
  flat("API fds", (s) => s.apiFds, 4);
  flat("cellblock mounts in the worker", (s) => s.mounts, 0);
  for (const sample of samples) {
    // The queue is drained when a sample is taken: at most a prepared container per slot (and one
    // still being torn down) remains.
    if (sample.cgroups > slots * 2) problems.push(`${sample.cgroups} run cgroups at ${sample.jobs} jobs`);
    if (sample.processes > 0) problems.push(`${sample.processes} sandbox processes at ${sample.jobs} jobs`);
    if (sample.workDirs > 0) problems.push(`${sample.workDirs} work dirs at ${sample.jobs} jobs`);
  }
  const keysMedian =
    [...samples.map((s) => s.redisKeys)].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0;
  if (samples.length >= 4 && last.redisKeys > keysMedian * 2 + 100) {
    problems.push(`Redis keys kept growing: ${last.redisKeys} against a median of ${keysMedian}`);
  }
  return problems;
}

export function formatSamples(samples: SoakSample[]): string {
  const columns: [string, (s: SoakSample) => number][] = [
    ["jobs", (s) => s.jobs],
    ["worker RSS MiB", (s) => s.workerRssMiB],
    ["worker fds", (s) => s.workerFds],
    ["API RSS MiB", (s) => s.apiRssMiB],
    ["API fds", (s) => s.apiFds],
    ["Redis MiB", (s) => s.redisMemoryMiB],
    ["Redis keys", (s) => s.redisKeys],
    ["run cgroups", (s) => s.cgroups],
    ["sandbox procs", (s) => s.processes],
    ["work dirs", (s) => s.workDirs],
    ["mounts", (s) => s.mounts],
    ["host memcgs", (s) => s.hostMemcgs],
  ];
  const trend = columns
    .slice(1)
    .map(([, pick]) => {
      const slope = slopePerThousand(samples.slice(1), pick);
      return `${slope >= 0 ? "+" : ""}${slope.toFixed(2)}`;
    })
    .join(" | ");
  return [
    `| ${columns.map(([name]) => name).join(" | ")} |`,
    `| ${columns.map(() => "---:").join(" | ")} |`,
    ...samples.map((s) => `| ${columns.map(([, pick]) => pick(s)).join(" | ")} |`),
    `| trend per 1,000 jobs | ${trend} |`,
  ].join("\n");
}
