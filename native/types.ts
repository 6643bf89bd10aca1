// The sandbox's plain-data contract: what one run needs (SandboxSpec) and what it reports
// (SandboxReport). The worker builds specs; native code executes them. Every field is already
// validated by the caller; native code does not re-check types.

/** An output stream of a run, as a live run's output callback names it. */
export type OutputStream = "stdout" | "stderr";

/** The root filesystem of a run. */
export type RootfsSpec =
  /** Read-only binds of the host's /usr, /bin, /lib*, and a few /etc files (zero-build default). */
  | { kind: "host" }
  /** A directory holding a complete root filesystem image, bound read-only as `/`'s content. */
  | { kind: "image"; path: string };

export interface BindSpec {
  /** Absolute host path (a directory or a regular file). */
  source: string;
  /** Absolute path inside the sandbox. */
  target: string;
  /** Read-write when true; read-only, nosuid, nodev otherwise. */
  writable: boolean;
}

/**
 * Disk I/O throttling of a run's cgroup (v1 blkio.throttle.*, v2 io.max) on the disks behind its
 * root and binds (native/io-limits.ts); each rate 0 = unlimited. Page-cache hits are not disk I/O.
 */
export interface IoLimits {
  readBps: number;
  writeBps: number;
  readIops: number;
  writeIops: number;
}

export interface SandboxLimits {
  /** CPU time (user + system, all processes of the run), enforced from the cgroup. */
  cpuTimeMs: number;
  /** Wall-clock time from exec to the end of the run. */
  wallTimeMs: number;
  /** Memory limit (RAM; no swap), tmpfs pages included. */
  memoryBytes: number;
  /** Maximum number of tasks (processes + threads) alive at once. */
  pids: number;
  /** Captured bytes per stream (stdout, stderr); the program is killed when a stream passes it. */
  outputBytes: number;
  /** RLIMIT_FSIZE: largest file the program may write. */
  fileSizeBytes: number;
  /** RLIMIT_NOFILE. */
  openFiles: number;
  /** RLIMIT_STACK. */
  stackBytes: number;
  /** Size of each writable tmpfs (/tmp, /dev/shm). */
  tmpfsBytes: number;
  /** Optional CPU bandwidth cap in percent of one CPU (100 = one full core). 0 = none. */
  cpuQuotaPercent: number;
  /** Disk I/O rates; the host's (SandboxHostConfig.io, from SANDBOX_IO_*) when unset. */
  io?: IoLimits;
}

export interface SandboxSpec {
  rootfs: RootfsSpec;
  binds: BindSpec[];
  /** argv[0] is an absolute path inside the sandbox. */
  argv: string[];
  /** The exact environment; nothing is inherited from the worker. */
  env: Record<string, string>;
  /** Working directory inside the sandbox. */
  cwd: string;
  stdin: Buffer;
  limits: SandboxLimits;
  /** Worker slot: selects the host uid/gid range (contract/sandbox-identity.ts) and the cgroup name. */
  slot: number;
  /**
   * The native runner thread (one container at a time each); the slot's own when unset. A second
   * runner lets one slot run two containers at once with its ids — an interactive problem's
   * program and interactor, which must run together.
   */
  runner?: number;
}

/**
 * How a run ended. The addon's own list (SB_STATUSES in native/src/supervise.h) must equal this
 * one: the addon is refused at load otherwise, and test/native/addon.test.ts says where.
 */
export const SANDBOX_STATUSES = [
  "ok",
  "runtime_error",
  "time_limit",
  "memory_limit",
  "output_limit",
  "setup_error",
] as const;
export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];

/** Why the supervisor stopped a run, when it did (SB_STOPS, whose "none" is null here). */
export const STOP_REASONS = ["cpu_time", "wall_time", "memory", "output", "file_size", "cancelled"] as const;
export type StopReason = (typeof STOP_REASONS)[number] | null;

/** Phases of a run, in order (SB_PHASES): where the supervisor's time went. */
export const SANDBOX_PHASES = ["cgroup", "clone", "attach", "setup", "run", "collect", "teardown"] as const;
export type SandboxPhase = (typeof SANDBOX_PHASES)[number];

export interface SetupError {
  /** Name of the setup step that failed, e.g. "mount proc on /proc". */
  step: string;
  errno: number;
  /** Symbolic errno, e.g. "EPERM". */
  code: string;
  message: string;
}

export interface SandboxReport {
  status: SandboxStatus;
  /** Exit code of the main process, or null when it was killed by a signal. */
  exitCode: number | null;
  /** Signal name (e.g. "SIGSEGV") that ended the main process, or null. */
  signal: string | null;
  stopReason: StopReason;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  cpuTimeMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  wallTimeMs: number;
  peakMemoryBytes: number;
  oomKilled: boolean;
  pidsLimitHit: boolean;
  setupError: SetupError | null;
  /**
   * Set when the sandbox killed the program for a syscall its policy does not allow: the call's
   * name ("#nr" when libseccomp cannot name it), from the kernel's seccomp notification to our
   * init. The signal is then SIGSYS.
   */
  blockedSyscall?: string;
  /** Where the supervisor's time went, in ms per phase. */
  phasesMs?: Record<SandboxPhase, number>;
  /**
   * Set when the run's container was made ahead all the way (mounted, its init waiting) for a
   * predicted mount plan that matched: prewarm with repeated plans (native/src/slot-runner.h).
   */
  madeAhead?: true;
}
