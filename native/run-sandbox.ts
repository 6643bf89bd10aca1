// The typed front of the addon: host set-up once per process (cgroup layout, our parent groups,
// stale-group sweep, seccomp compile), then runSandbox() per container.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { delegateV2Controllers } from "./cgroup-v2-delegation.ts";
import { type CgroupLayout, cgroupParents, detectCgroupLayout } from "./detect-cgroups.ts";
import type { SandboxReport, SandboxSpec, SandboxStatus, StopReason } from "./types.ts";

export interface SandboxHostConfig {
  /** Name of our parent cgroup in each hierarchy; nothing outside it is touched. Default "cellblock". */
  cgroupParent: string;
  /**
   * cgroup v2 only: the group our parent is created in, when the worker is given a delegated
   * subtree (systemd Delegate=yes, a container's cgroup). Default: the cgroup2 mount point.
   */
  cgroupRoot?: string;
  /** First host uid/gid of slot 0; slot N uses [uidBase + N*65536, +65536). Default 200000. */
  uidBase: number;
  /** Mount point of each container's new root (inside its private mount namespace). */
  newRoot: string;
  hostname: string;
  /**
   * Create each slot's next container while the slot is idle (cgroup, namespaces, id maps, cgroup
   * attach), so a run starts at its filesystem setup. Still one container per run. Off by default:
   * an idle standby is a live process in our cgroup until releaseStandbys() or exit.
   */
  prewarm: boolean;
}

export interface SandboxHostInfo {
  cgroupVersion: 1 | 2;
  cgroupParents: string[];
  seccompInstructions: number;
  config: Readonly<SandboxHostConfig>;
}

export interface SelfCheckResult {
  ok: boolean;
  detail: string;
}

interface NativeResult {
  status: number;
  stop?: number;
  exitCode?: number;
  signal?: number;
  stdout?: Buffer;
  stderr?: Buffer;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  wallNs?: number;
  cpuNs?: number;
  userNs?: number;
  systemNs?: number;
  peakBytes?: number;
  oomKills?: number;
  pidsMaxHits?: number;
  setupStep?: string;
  setupErrno?: number;
  setupMessage?: string;
  phasesMs?: Record<string, number>;
}

interface Addon {
  configure(cfg: object): number;
  run(spec: object): { promise: Promise<NativeResult>; cancel(): void };
  cgroupFixture(args: object): Record<string, number | string>;
  releaseStandbys(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const addonPath = join(here, "build", "Release", "cellblock.node");
const initPath = join(here, "build", "Release", "cellblock-init");
let addon: Addon | undefined;

export function loadAddon(): Addon {
  if (!addon) {
    if (!existsSync(addonPath))
      throw new Error(
        `sandbox addon not built: ${addonPath} is missing (run \`npm run build\` or scripts/setup.sh)`,
      );
    addon = createRequire(import.meta.url)(addonPath) as Addon;
  }
  return addon;
}

// Order must match enum sb_status / sb_stop in native/src/supervise.h.
const STATUSES: SandboxStatus[] = [
  "ok",
  "runtime_error",
  "time_limit",
  "memory_limit",
  "output_limit",
  "setup_error",
];
const STOPS: StopReason[] = [null, "cpu_time", "wall_time", "memory", "output", "file_size", "cancelled"];
// Several names share a number (SIGABRT/SIGIOT, SIGIO/SIGPOLL): keep the first, canonical one.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

let host: SandboxHostInfo | undefined;
const trace = Boolean(process.env.CELLBLOCK_TRACE);

function ensureParents(layout: CgroupLayout, parents: string[]): void {
  if (layout.version === 2) delegateV2Controllers(layout.root, parents[0] as string, process.pid);
  else for (const dir of new Set(parents)) mkdirSync(dir, { recursive: true });
}

/** Removes run groups left by a dead worker process (names start with its pid). Only ours. */
function sweepStaleGroups(parents: string[]): void {
  for (const parent of new Set(parents)) {
    for (const name of readdirSync(parent, { withFileTypes: true })) {
      const m = /^(\d+)-s\d+-\d+$/.exec(name.name);
      if (!name.isDirectory() || !m) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || pidAlive(pid)) continue;
      const dir = join(parent, name.name);
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) {
        if (line.trim()) killQuietly(Number(line));
      }
      try {
        rmdirSync(dir);
      } catch {
        // still draining: the next start-up retries
      }
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Sets the host up once per process. Throws with a message naming the failing step. */
export function configureSandbox(overrides: Partial<SandboxHostConfig> = {}): SandboxHostInfo {
  const config: SandboxHostConfig = Object.freeze({
    cgroupParent: "cellblock",
    uidBase: 200000,
    newRoot: "/run/cellblock/newroot",
    hostname: "cellblock",
    prewarm: false,
    ...overrides,
  });
  const detected = detectCgroupLayout(readFileSync("/proc/self/mountinfo", "utf8"));
  const layout: CgroupLayout =
    detected.version === 2 && config.cgroupRoot ? { version: 2, root: config.cgroupRoot } : detected;
  const parents = cgroupParents(layout, config.cgroupParent);
  ensureParents(layout, parents);
  sweepStaleGroups(parents);
  mkdirSync(config.newRoot, { recursive: true });
  const seccompInstructions = loadAddon().configure({
    cgroupVersion: layout.version,
    cgroupParents: parents,
    newRoot: config.newRoot,
    hostname: config.hostname,
    initPath,
    prewarm: config.prewarm,
    capLastCap: Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")),
    ncpus: availableParallelism(),
  });
  host = Object.freeze({
    cgroupVersion: layout.version,
    cgroupParents: parents,
    seccompInstructions,
    config,
  });
  return host;
}

export function sandboxHostInfo(): SandboxHostInfo {
  return host ?? configureSandbox();
}

function toReport(r: NativeResult): SandboxReport {
  const status = STATUSES[r.status] ?? "setup_error";
  const ms = (ns: number | undefined) => Math.round((ns ?? 0) / 1e4) / 100;
  const errno = r.setupErrno ?? 0;
  return {
    status,
    exitCode: r.exitCode === undefined || r.exitCode < 0 ? null : r.exitCode,
    signal: r.signal ? (SIGNAL_NAMES.get(r.signal) ?? `SIG${r.signal}`) : null,
    stopReason: STOPS[r.stop ?? 0] ?? null,
    stdout: r.stdout ?? Buffer.alloc(0),
    stderr: r.stderr ?? Buffer.alloc(0),
    stdoutTruncated: r.stdoutTruncated ?? false,
    stderrTruncated: r.stderrTruncated ?? false,
    cpuTimeMs: ms(r.cpuNs),
    cpuUserMs: ms(r.userNs),
    cpuSystemMs: ms(r.systemNs),
    wallTimeMs: ms(r.wallNs),
    peakMemoryBytes: r.peakBytes ?? 0,
    oomKilled: (r.oomKills ?? 0) > 0,
    pidsLimitHit: (r.pidsMaxHits ?? 0) > 0,
    setupError:
      status === "setup_error"
        ? {
            step: r.setupStep ?? "prepare the container",
            errno,
            code: ERRNO_NAMES.get(errno) ?? `errno ${errno}`,
            message: setupMessage(r.setupStep ?? "", errno, r.setupMessage ?? ""),
          }
        : null,
    ...(r.phasesMs ? { phasesMs: r.phasesMs } : {}),
  };
}

function setupMessage(step: string, errno: number, detail: string): string {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const hint =
    errno === constants.errno.EPERM && /mount|namespace|pivot/.test(step)
      ? " (are user namespaces enabled, and is the worker root?)"
      : "";
  return detail && detail !== step ? `${detail}` : `${step}: ${code}${hint}`;
}

/** Runs one process in a fresh container. Resolves with the report; aborting the signal kills it. */
export async function runSandbox(
  spec: SandboxSpec,
  opts: { signal?: AbortSignal } = {},
): Promise<SandboxReport> {
  const { config } = sandboxHostInfo();
  const l = spec.limits;
  const handle = loadAddon().run({
    rootfsKind: spec.rootfs.kind,
    rootfsPath: spec.rootfs.kind === "image" ? spec.rootfs.path : "",
    binds: spec.binds,
    argv: spec.argv,
    env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    cwd: spec.cwd,
    stdin: spec.stdin,
    cpuTimeMs: l.cpuTimeMs,
    wallTimeMs: l.wallTimeMs,
    memoryBytes: l.memoryBytes,
    pids: l.pids,
    outputBytes: l.outputBytes,
    fileSizeBytes: l.fileSizeBytes,
    openFiles: l.openFiles,
    stackBytes: l.stackBytes,
    tmpfsBytes: l.tmpfsBytes,
    cpuQuotaPercent: l.cpuQuotaPercent,
    slot: spec.slot,
    hostIdBase: config.uidBase + spec.slot * 65536,
  });
  const onAbort = () => handle.cancel();
  if (opts.signal?.aborted) handle.cancel();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const startedMs = performance.now();
  try {
    const report = toReport(await handle.promise);
    // One JSON line per run on stderr: where the time went, for operators chasing latency.
    if (trace)
      process.stderr.write(
        `${JSON.stringify({ trace: "sandbox", argv0: spec.argv[0], status: report.status, totalMs: performance.now() - startedMs, phasesMs: report.phasesMs })}\n`,
      );
    return report;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Kills and removes every slot's idle standby container (worker shutdown, tests' leak checks). */
export async function releaseStandbys(): Promise<void> {
  if (addon) await addon.releaseStandbys();
}

/** Host uid (and gid) that uid 1000 inside the container maps to, for chown'ing writable binds. */
export function jobHostId(slot: number): number {
  return sandboxHostInfo().config.uidBase + slot * 65536 + 1000;
}

/** Runs a trivial container; the readiness probe and worker start-up refuse work when it fails. */
export async function selfCheck(): Promise<SelfCheckResult> {
  try {
    const r = await runSandbox({
      rootfs: { kind: "host" },
      binds: [],
      argv: ["/bin/sh", "-c", "exit 0"],
      env: { PATH: "/usr/bin:/bin" },
      cwd: "/",
      stdin: Buffer.alloc(0),
      limits: {
        cpuTimeMs: 2000,
        wallTimeMs: 5000,
        memoryBytes: 64 << 20,
        pids: 8,
        outputBytes: 4096,
        fileSizeBytes: 1 << 20,
        openFiles: 64,
        stackBytes: 8 << 20,
        tmpfsBytes: 1 << 20,
        cpuQuotaPercent: 0,
      },
      slot: 0,
    });
    if (r.status === "ok") return { ok: true, detail: "a container ran /bin/sh and exited 0" };
    return { ok: false, detail: r.setupError?.message ?? `self-check container ended ${r.status}` };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}
