// The addon's shape as TypeScript sees it (native/src/addon.cc), and loading it. The addon reports
// statuses, stop reasons and phases by name from its own tables; loadAddon() refuses an addon
// whose tables differ from the unions in types.ts, so a C change without the TS change (or a
// stale build) fails loudly instead of mislabelling runs.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BindSpec, SANDBOX_PHASES, SANDBOX_STATUSES, type SandboxPhase, STOP_REASONS } from "./types.ts";

/** setrlimit resources by name (the addon maps them to this architecture's RLIMIT_* numbers). */
export const RLIMIT_RESOURCES = [
  "as",
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
] as const;
export type RlimitResource = (typeof RLIMIT_RESOURCES)[number];

export interface NativeRlimit {
  resource: RlimitResource;
  soft: number;
  hard: number;
}

/** Disk I/O throttling of one run's cgroup (native/src/cgroup.h sb_io_limits); rates 0 = unlimited. */
export interface NativeIoLimits {
  readBps: number;
  writeBps: number;
  readIops: number;
  writeIops: number;
  /** Whole-disk [major, minor] pairs (native/block-devices.ts), at most 16. */
  devices: [number, number][];
}

/** What addon.run() takes: every value final (build-native-spec.ts), nothing left to decide. */
export interface NativeRunSpec {
  rootfsKind: "host" | "image";
  /** The image directory; "" for the host layout. */
  rootfsPath: string;
  binds: BindSpec[];
  tmpfsBytes: number;
  argv: string[];
  /** "KEY=value" entries, the job's whole environment. */
  env: string[];
  cwd: string;
  stdin: Buffer;
  cpuTimeMs: number;
  wallTimeMs: number;
  memoryBytes: number;
  /** The run cgroup's pids.max. */
  pidsMax: number;
  outputBytes: number;
  cpuQuotaPercent: number;
  /** Absent: no disk I/O throttling. */
  io?: NativeIoLimits;
  /** Set in the payload, in this order, before it drops its capabilities. */
  rlimits: NativeRlimit[];
  /** Selects the slot's thread, standby and cgroup name. */
  slot: number;
  /** Inside ids 0..idCount-1 (uid and gid) are host ids hostIdBase.. */
  hostIdBase: number;
  idCount: number;
  /** The job's ids inside the container. */
  jobUid: number;
  jobGid: number;
  /** A live run (run-live-sandbox.ts): stdin from a pipe, signals, output per piece. */
  live?: boolean;
  /** Live runs: each piece of output kept, in order, before the report (stream 1 stdout, 2 stderr). */
  onOutput?: (stream: 1 | 2, chunk: Buffer) => void;
}

export interface NativeHostConfig {
  cgroupVersion: 1 | 2;
  cgroupParents: string[];
  newRoot: string;
  hostname: string;
  initPath: string;
  prewarm: boolean;
  handOver: boolean;
  capLastCap: number;
  ncpus: number;
  /** cgroup v2: clone each container into its group (clone3 CLONE_INTO_CGROUP) where the kernel can. */
  cloneIntoCgroup: boolean;
  /** Who writes the id maps (native/rootless.ts); the helpers' absolute paths in "subid" mode, else "". */
  idMap: "root" | "single" | "subid";
  newuidmap: string;
  newgidmap: string;
}

export interface NativeResult {
  /** One of statusNames; the rest is absent when the run failed before reaching its slot. */
  status: string;
  /** One of stopNames. */
  stop?: string;
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
  /** Name (or "#nr") of the call off the allowlist that made the init kill the job. */
  blockedSyscall?: string;
  setupStep?: string;
  setupErrno?: number;
  setupMessage?: string;
  phasesMs?: Record<SandboxPhase, number>;
  madeAhead?: boolean;
}

export interface NativeRunHandle {
  promise: Promise<NativeResult>;
  cancel(): void;
  /** Live runs: the write end of the job's stdin relay (the caller owns and closes it). */
  stdinFd?: number;
  /** Live runs: a signal number for the job's process group, relayed once the program runs. */
  signal?(signo: number): void;
}

export interface Addon {
  /** Returns the seccomp filter's instruction count. Throws naming the failing step. */
  configure(cfg: NativeHostConfig): number;
  run(spec: NativeRunSpec): NativeRunHandle;
  cgroupFixture(args: object): Record<string, number | string>;
  releaseStandbys(): Promise<void>;
  /** Removes a tree descriptor-relatively, off the event loop (native/src/host-files.c). */
  removeTree(path: string): Promise<number>;
  /** The bytes a tree occupies, however deep, off the event loop (native/src/host-files.c). */
  treeBytes(path: string): Promise<number>;
  /** A held exclusive flock's descriptor, or -errno (-EWOULDBLOCK: someone else holds it). */
  tryLock(path: string): number;
  unlock(fd: number): void;
  /** mkfifo(2): 0, or the negated errno. */
  mkfifo(path: string, mode: number): number;
  readonly statusNames: readonly string[];
  /** Starts with "none" (StopReason null). */
  readonly stopNames: readonly string[];
  readonly phaseNames: readonly string[];
  /** Setup steps after the mount plan, in the order they run. */
  readonly stepNames: readonly string[];
  readonly rlimitNames: readonly string[];
}

const here = dirname(fileURLToPath(import.meta.url));
const addonPath = join(here, "build", "Release", "cellblock.node");
export const initPath = join(here, "build", "Release", "cellblock-init");
let addon: Addon | undefined;

type AddonTables = Pick<Addon, "statusNames" | "stopNames" | "phaseNames" | "rlimitNames">;

/** Where the addon's tables differ from the TS lists they must equal; one message per table. */
export function tableMismatches(a: AddonTables): string[] {
  const expected: Record<keyof AddonTables, readonly string[]> = {
    statusNames: SANDBOX_STATUSES,
    stopNames: ["none", ...STOP_REASONS],
    phaseNames: SANDBOX_PHASES,
    rlimitNames: RLIMIT_RESOURCES,
  };
  return Object.entries(expected)
    .filter(([name, ts]) => {
      const native = a[name as keyof AddonTables];
      return native.length !== ts.length || native.some((v, i) => v !== ts[i]);
    })
    .map(
      ([name, ts]) =>
        `${name} [${a[name as keyof AddonTables].join(", ")}] differ from native/ [${ts.join(", ")}]`,
    );
}

export function loadAddon(): Addon {
  if (addon) return addon;
  if (!existsSync(addonPath))
    throw new Error(
      `sandbox addon not built: ${addonPath} is missing (run \`npm run build\` or scripts/setup.sh)`,
    );
  const loaded = createRequire(import.meta.url)(addonPath) as Addon;
  const mismatches = tableMismatches(loaded);
  if (mismatches.length > 0)
    throw new Error(
      `sandbox addon ${addonPath}: its ${mismatches.join("; ")} (rebuild it, or bring native/types.ts and native/addon.ts in line with the C lists)`,
    );
  addon = loaded;
  return addon;
}
