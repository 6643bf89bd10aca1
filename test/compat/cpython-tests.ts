// The compatibility oracle: CPython's own regression tests (Debian's libpython3.11-testsuite) run
// once inside the sandbox and once bare — as an unprivileged user (nobody), spawned by Node with a
// uid drop in its own process group, in a fresh temp dir — and compared test by test. A test
// that passes bare and not in the sandbox is a difference: fixed, or listed with its security
// reason in known-differences.ts.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runSandbox, type SandboxLimits } from "../../native/index.ts";

export type Outcome =
  | "ok"
  | "skipped"
  | "fail"
  | "error"
  | "expected failure"
  | "unexpected success"
  | "missing";

export interface ModuleRun {
  module: string;
  /** Outcome per test id ("test.test_os.FileTests.test_access"). */
  tests: Map<string, Outcome>;
  /** How the interpreter ended: "exit 0", "exit 2", "SIGSYS", "time_limit", ... */
  ended: string;
  wallMs: number;
}

export const PYTHON = "/usr/bin/python3";
export const TESTSUITE_DIR = "/usr/lib/python3.11/test";
/**
 * The unprivileged user of the bare runs: not a sandbox slot's uid, so a bare run never shares
 * per-user counters with a job, and the sandbox tests' leak checks never mistake it for a job.
 */
export const BARE_UID = 65534;
/** The slot the compatibility runs use in the sandbox. */
export const COMPAT_SLOT = Number(process.env.CELLBLOCK_COMPAT_SLOT ?? "7");
const MiB = 1024 * 1024;

/** Generous limits (an operator's ceiling, not a language default): the point is the policy. */
export const COMPAT_LIMITS: SandboxLimits = {
  cpuTimeMs: 120_000,
  wallTimeMs: 180_000,
  memoryBytes: 1024 * MiB,
  pids: 256,
  outputBytes: 8 * MiB,
  fileSizeBytes: 256 * MiB,
  openFiles: 1024,
  stackBytes: 8 * MiB,
  tmpfsBytes: 512 * MiB,
  cpuQuotaPercent: 0,
};

const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", HOME: "/tmp" };

export function testsuiteInstalled(): boolean {
  return (
    fs.existsSync(path.join(TESTSUITE_DIR, "regrtest.py")) ||
    fs.existsSync(path.join(TESTSUITE_DIR, "libregrtest"))
  );
}

function argv(module: string): string[] {
  // -v: one line per test; no -u: resources such as network stay off, as on a judge.
  return [PYTHON, "-m", "test", "-v", module];
}

const HEADER = /^(test\w*) \(([\w.]+)\)/;
const RESULT = /(?:^|\.\.\. )(ok|FAIL|ERROR|skipped\b.*|expected failure|unexpected success)$/;

/** Parses `python -m test -v` output into an outcome per test id. */
export function parseVerbose(output: string): Map<string, Outcome> {
  const tests = new Map<string, Outcome>();
  let current: string | undefined;
  for (const line of output.split("\n")) {
    const header = HEADER.exec(line);
    if (header?.[2]) {
      current = header[2];
      tests.set(current, "missing");
    }
    const result = current ? RESULT.exec(line) : null;
    if (current && result?.[1]) {
      tests.set(current, outcomeOf(result[1]));
      current = undefined;
    }
  }
  return tests;
}

function outcomeOf(word: string): Outcome {
  if (word === "ok") return "ok";
  if (word === "FAIL") return "fail";
  if (word === "ERROR") return "error";
  if (word.startsWith("skipped")) return "skipped";
  return word as Outcome;
}

/** Runs one test module inside a fresh sandbox (host layout, the job's usual environment). */
export async function runInSandbox(
  module: string,
  limits: SandboxLimits = COMPAT_LIMITS,
): Promise<ModuleRun> {
  const started = Date.now();
  const report = await runSandbox({
    rootfs: { kind: "host" },
    binds: [],
    argv: argv(module),
    env: ENV,
    cwd: "/tmp",
    stdin: Buffer.alloc(0),
    limits,
    slot: COMPAT_SLOT,
  });
  const output = report.stdout.toString() + report.stderr.toString();
  const ended =
    report.status === "ok" || (report.status === "runtime_error" && !report.signal)
      ? `exit ${report.exitCode}`
      : report.blockedSyscall
        ? `SIGSYS (${report.blockedSyscall})`
        : (report.signal ?? report.status);
  return { module, tests: parseVerbose(output), ended, wallMs: Date.now() - started };
}

/** Runs one test module bare: the same uid, no privileges, a fresh HOME/cwd, the same limits. */
export async function runBare(module: string, limits: SandboxLimits = COMPAT_LIMITS): Promise<ModuleRun> {
  const uid = BARE_UID;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellblock-compat-"));
  fs.chownSync(dir, uid, uid);
  const started = Date.now();
  try {
    const child = spawn(argv(module)[0] as string, argv(module).slice(1), {
      cwd: dir,
      env: { ...ENV, HOME: dir, TMPDIR: dir },
      uid,
      gid: uid,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so the whole test run can be ended
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    let output = "";
    child.stdout.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      output += b.toString();
    });
    const timer = setTimeout(killGroup, limits.wallTimeMs);
    const ended = await new Promise<string>((resolve) => {
      child.on("close", (code, signal) => resolve(signal ?? `exit ${code}`));
    });
    clearTimeout(timer);
    killGroup(); // what the tests left running (multiprocessing workers)
    return { module, tests: parseVerbose(output), ended, wallMs: Date.now() - started };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface Difference {
  test: string;
  bare: Outcome;
  sandbox: Outcome;
}

/** Tests that pass bare (ok) but not in the sandbox. */
export function differences(bare: ModuleRun, sandbox: ModuleRun): Difference[] {
  const out: Difference[] = [];
  for (const [test, outcome] of bare.tests) {
    const inSandbox = sandbox.tests.get(test) ?? "missing";
    if (outcome === "ok" && inSandbox !== "ok") out.push({ test, bare: outcome, sandbox: inSandbox });
  }
  return out;
}

export function countOk(run: ModuleRun): string {
  let ok = 0;
  for (const outcome of run.tests.values()) if (outcome === "ok") ok++;
  return `${ok}/${run.tests.size} ok`;
}
