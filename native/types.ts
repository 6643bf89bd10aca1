// The sandbox's plain-data contract: what one run needs (SandboxSpec) and what it reports
// (SandboxReport). The worker builds specs; native code executes them. Every field is already
// validated by the caller; native code does not re-check types.

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
  /** Worker slot: selects the host uid/gid range and the cgroup name. */
  slot: number;
}

export type SandboxStatus =
  | "ok"
  | "runtime_error"
  | "time_limit"
  | "memory_limit"
  | "output_limit"
  | "setup_error";

/** Why the supervisor stopped the run, when it did. */
export type StopReason = "cpu_time" | "wall_time" | "memory" | "output" | "file_size" | "cancelled" | null;

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
  /** Where the supervisor's time went (cgroup, clone, attach, setup, run, collect, teardown), in ms. */
  phasesMs?: Record<string, number>;
}
