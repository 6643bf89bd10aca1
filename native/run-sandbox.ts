// The typed front of the addon: host set-up once per process (cgroup layout, our parent groups,
// stale-group sweep, seccomp compile), then runSandbox() per container.
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import { join } from "node:path";
import { DEFAULT_UID_BASE, jobHostId as slotJobHostId } from "../contract/sandbox-identity.ts";
import { initPath, loadAddon, type NativeResult } from "./addon.ts";
import { buildNativeSpec } from "./build-native-spec.ts";
import { delegateV2Controllers } from "./cgroup-v2-delegation.ts";
import { type CgroupLayout, cgroupParents, detectCgroupLayout } from "./detect-cgroups.ts";
import { describeMissing, missingPrerequisites } from "./host-prerequisites.ts";
import { hasIoLimits, IO_OFF_HINT, NO_IO_LIMITS, nativeIoLimits, requireIoController } from "./io-limits.ts";
import { realHostView, realRootlessView, requireSearchable, rootlessNewRoot } from "./real-host.ts";
import {
  type IdLayout,
  layoutJobHostId,
  missingDelegation,
  type RootlessIdMap,
  rootlessIdLayout,
} from "./rootless.ts";
import type {
  IoLimits,
  OutputStream,
  SandboxReport,
  SandboxSpec,
  SandboxStatus,
  StopReason,
} from "./types.ts";

export interface SandboxHostConfig {
  /** Name of our parent cgroup in each hierarchy; nothing outside it is touched. Default "cellblock". */
  cgroupParent: string;
  /**
   * cgroup v2 only: the group our parent is created in, when the worker is given a delegated
   * subtree (systemd Delegate=yes, a container's cgroup). Default: the cgroup2 mount point.
   */
  cgroupRoot?: string;
  /**
   * First host uid/gid of slot 0; slot N owns IDS_PER_SLOT ids from slotIdBase(uidBase, N)
   * (contract/sandbox-identity.ts). Default DEFAULT_UID_BASE.
   */
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
  /**
   * With prewarm, a container made ahead is made without its caller binds (the job's work dir, a
   * checker's dir) and gets them at the job's go (native/src/hand-over.c), so one made ahead serves
   * any job of the same shape, each with its own dirs. Default true; needs root and Linux 5.12
   * (mount_setattr), else off by itself (then only a request repeated source for source is made
   * ahead). false only to measure or test the other path.
   */
  handOver?: boolean;
  /** One JSON line per run on stderr: where the time went (phasesMs), for operators chasing latency. Default false. */
  trace?: boolean;
  /**
   * cgroup v2: create each container directly in its run group with clone3(CLONE_INTO_CGROUP)
   * (Linux 5.7+, x86_64) instead of moving it there after the clone. Default true; false only to
   * measure the migration path (bench/clone-into-cgroup.ts). Where the kernel lacks it, containers are migrated.
   */
  cloneIntoCgroup?: boolean;
  /**
   * Disk I/O rates of every run whose spec sets none (SANDBOX_IO_*; native/io-limits.ts). Default
   * unlimited. Needs blkio (v1) or the io controller (v2): configureSandbox refuses limits without.
   */
  io?: IoLimits;
  /**
   * A worker that is not root (rootless mode, native/rootless.ts): "subid" (default) maps each
   * slot's range out of its /etc/subuid and /etc/subgid ranges through newuidmap/newgidmap;
   * "single" maps only its own uid and gid. Root ignores it.
   */
  idMap?: RootlessIdMap;
}

export interface SandboxHostInfo {
  cgroupVersion: 1 | 2;
  cgroupParents: string[];
  seccompInstructions: number;
  config: Readonly<SandboxHostConfig>;
  /** How ids are mapped: "root", or a rootless worker's "subid" or "single" layout. */
  ids: Readonly<IdLayout>;
}

export interface SelfCheckResult {
  ok: boolean;
  detail: string;
}

// Several names share a number (SIGABRT/SIGIOT, SIGIO/SIGPOLL): keep the first, canonical one.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

let host: SandboxHostInfo | undefined;

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
      } catch (e) {
        // EBUSY: its processes were just killed and the kernel has not released them yet; the
        // next start-up retries, and a busy leftover group costs nothing meanwhile. ENOENT:
        // removed concurrently. Anything else means our own parent group is not ours to manage.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EBUSY" && code !== "ENOENT")
          throw new Error(`remove the dead worker's cgroup ${dir}: ${(e as Error).message}`);
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
  const uid = process.getuid?.() ?? 0;
  const config: SandboxHostConfig = Object.freeze({
    cgroupParent: "cellblock",
    uidBase: DEFAULT_UID_BASE,
    newRoot: uid === 0 || overrides.newRoot ? "/run/cellblock/newroot" : rootlessNewRoot(uid),
    hostname: "cellblock",
    prewarm: false,
    trace: false,
    ...overrides,
  });
  const detected = detectCgroupLayout(readFileSync("/proc/self/mountinfo", "utf8"));
  const layout: CgroupLayout =
    detected.version === 2 && config.cgroupRoot ? { version: 2, root: config.cgroupRoot } : detected;
  // Every missing prerequisite named at once, before anything on the host is changed.
  const missing = missingPrerequisites(realHostView(), layout.version === 2 ? layout.root : undefined);
  let ids: IdLayout = { mode: "root", uidBase: config.uidBase };
  if (uid !== 0) {
    // Rootless: a delegated v2 subtree and a way to map ids replace root (native/rootless.ts).
    const view = realRootlessView();
    missing.push(...missingDelegation(view, layout.version === 2 ? layout.root : undefined));
    const rootless = rootlessIdLayout(view, config.idMap ?? "subid");
    missing.push(...rootless.missing);
    if (rootless.layout) ids = rootless.layout;
  }
  if (missing.length > 0) throw new Error(`sandbox prerequisites missing:\n${describeMissing(missing)}`);
  const parents = cgroupParents(layout, config.cgroupParent);
  ensureParents(layout, parents);
  if (hasIoLimits(config.io ?? NO_IO_LIMITS)) requireIoController(layout, parents);
  sweepStaleGroups(parents);
  mkdirSync(config.newRoot, { recursive: true });
  requireSearchable(config.newRoot);
  const seccompInstructions = loadAddon().configure({
    cgroupVersion: layout.version,
    cgroupParents: parents,
    newRoot: config.newRoot,
    hostname: config.hostname,
    initPath,
    prewarm: config.prewarm,
    handOver: config.handOver ?? true,
    cloneIntoCgroup: config.cloneIntoCgroup ?? true,
    idMap: ids.mode,
    newuidmap: ids.newuidmap ?? "",
    newgidmap: ids.newgidmap ?? "",
    capLastCap: Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8")),
    ncpus: availableParallelism(),
  });
  host = Object.freeze({
    cgroupVersion: layout.version,
    cgroupParents: parents,
    seccompInstructions,
    config,
    ids: Object.freeze(ids),
  });
  return host;
}

/** The addon's request for spec: the plain values (build-native-spec.ts) plus its disks' I/O limits. */
export function nativeRequest(spec: SandboxSpec) {
  const { config, ids } = sandboxHostInfo();
  const io = nativeIoLimits(spec, config.io ?? NO_IO_LIMITS);
  return { ...buildNativeSpec(spec, config.uidBase, ids), ...(io ? { io } : {}) };
}

export function sandboxHostInfo(): SandboxHostInfo {
  return host ?? configureSandbox();
}

// The names are the addon's, which loadAddon() held equal to the unions in types.ts.
export function toReport(r: NativeResult): SandboxReport {
  const status = r.status as SandboxStatus;
  const ms = (ns: number | undefined) => Math.round((ns ?? 0) / 1e4) / 100;
  const errno = r.setupErrno ?? 0;
  return {
    status,
    exitCode: r.exitCode === undefined || r.exitCode < 0 ? null : r.exitCode,
    signal: r.signal ? (SIGNAL_NAMES.get(r.signal) ?? `SIG${r.signal}`) : null,
    stopReason: r.stop === undefined || r.stop === "none" ? null : (r.stop as StopReason),
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
    ...(r.blockedSyscall ? { blockedSyscall: r.blockedSyscall } : {}),
    ...(r.phasesMs ? { phasesMs: r.phasesMs } : {}),
    ...(r.madeAhead ? { madeAhead: true as const } : {}),
  };
}

function setupMessage(step: string, errno: number, detail: string): string {
  const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const hint =
    errno === constants.errno.EPERM && /mount|namespace|pivot/.test(step)
      ? " (are user namespaces enabled? see the self-check)"
      : "";
  // Disk I/O limits on a device the kernel will not throttle: name the settings that turn them off.
  const ioHint = /io\.max|blkio/.test(detail) ? ` ${IO_OFF_HINT}` : "";
  return detail && detail !== step ? `${detail}${ioHint}` : `${step}: ${code}${hint}`;
}

/**
 * Runs one process in a fresh container. Resolves with the report; aborting the signal kills it.
 * onOutput, when given, sees each piece of output kept, in order, before the report.
 */
export async function runSandbox(
  spec: SandboxSpec,
  opts: {
    signal?: AbortSignal | undefined;
    onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  } = {},
): Promise<SandboxReport> {
  const { config } = sandboxHostInfo();
  const { onOutput } = opts;
  const handle = loadAddon().run({
    ...nativeRequest(spec),
    ...(onOutput
      ? { onOutput: (stream: 1 | 2, chunk: Buffer) => onOutput(stream === 2 ? "stderr" : "stdout", chunk) }
      : {}),
  });
  const onAbort = () => handle.cancel();
  if (opts.signal?.aborted) handle.cancel();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const startedMs = performance.now();
  try {
    const report = toReport(await handle.promise);
    // One JSON line per run on stderr: where the time went, for operators chasing latency.
    if (config.trace)
      process.stderr.write(
        `${JSON.stringify({ trace: "sandbox", argv0: spec.argv[0], status: report.status, totalMs: performance.now() - startedMs, phasesMs: report.phasesMs, madeAhead: report.madeAhead ?? false })}\n`,
      );
    return report;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

/** Creates a named pipe (mode before umask); throws naming the path and errno. */
export function makeFifo(path: string, mode: number): void {
  const rc = loadAddon().mkfifo(path, mode);
  if (rc !== 0) {
    const code = Object.entries(constants.errno).find(([, n]) => n === -rc)?.[0] ?? String(-rc);
    throw new Error(`mkfifo ${path}: ${code}`);
  }
}

/** Kills and removes every slot's idle standby container (worker shutdown, tests' leak checks). */
export async function releaseStandbys(): Promise<void> {
  if (host) await loadAddon().releaseStandbys(); // no host, no runs, no standbys
}

/** Host uid (and gid) that the job's JOB_UID inside the container maps to, for chown'ing writable binds. */
export function jobHostId(slot: number): number {
  const { config, ids } = sandboxHostInfo();
  return ids.mode === "root" ? slotJobHostId(config.uidBase, slot) : layoutJobHostId(ids, slot);
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
