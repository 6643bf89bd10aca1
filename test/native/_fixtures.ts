// Fixture programs and spec helpers shared by the sandbox tests.
//
// C fixtures (test/fixtures/*.c) are compiled once per source hash into
// os.tmpdir()/cellblock-fixtures-<hash>, which every run binds read-only at /fixtures. The build is
// keyed by the sources and the compiler, so a changed fixture rebuilds and a stale build dir is
// removed. Binaries are static (nothing in them depends on the sandbox's /usr) except the ones that
// need glibc's NSS at run time.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  configureSandbox,
  jobHostId,
  type RootlessIdMap,
  runSandbox,
  type SandboxLimits,
  type SandboxReport,
  type SandboxSpec,
} from "../../native/index.ts";

export const FIXTURE_SOURCE_DIR = path.resolve(import.meta.dirname, "../fixtures");
export const FIXTURE_BUILD_PREFIX = "cellblock-fixtures-";
export const BIND_DIR_PREFIX = "cellblock-test-bind-";

/**
 * The worker slot these tests run in (CELLBLOCK_TEST_SLOT overrides it); not 0 or 1, which a
 * worker or benchmark running on the same machine is likely to be using.
 */
export const TEST_SLOT = Number(process.env.CELLBLOCK_TEST_SLOT ?? "6");

/**
 * How many times longer than on the host a test waits for a start-up or a compile in test:v2's VM
 * (CELLBLOCK_V2VM=1), where the CPU is emulated: node + tsx take seconds to start, and CI's
 * loaded host runs the VM twice as slowly again as a quiet one (its self-check: 38 s against
 * 19 s). Only for waits on ordinary work; a limit or deadline a test asserts about is not scaled.
 */
export const EMULATION_SLOWDOWN = process.env.CELLBLOCK_V2VM === "1" ? 3 : 1;

/**
 * Rootless runs (test:v2's VM with V2_ROOTLESS): the tests run as an ordinary user in the cgroup
 * subtree delegated to it (CELLBLOCK_CGROUP_ROOT), with CELLBLOCK_TEST_ID_MAP's id mapping.
 */
export const ROOTLESS = process.getuid?.() !== 0;
if (ROOTLESS && process.env.CELLBLOCK_CGROUP_ROOT)
  configureSandbox({
    cgroupRoot: process.env.CELLBLOCK_CGROUP_ROOT,
    idMap: (process.env.CELLBLOCK_TEST_ID_MAP ?? "subid") as RootlessIdMap,
  });

/**
 * CELLBLOCK_TEST_PREWARM=1: the sandbox tests run with prewarm on, and each test's runs on the
 * default slot with the default mount request in containers made ahead all the way (the leak
 * checks prime the slot before each test and release its standby after: _leaks.ts). A test file
 * that calls configureSandbox itself runs with its own settings.
 */
export const TEST_PREWARM = process.env.CELLBLOCK_TEST_PREWARM === "1";
if (TEST_PREWARM) configureSandbox({ prewarm: true });

/** Runs of run() (CELLBLOCK_TEST_PREWARM) and how many of them were made ahead. */
export const runCounts = { runs: 0, madeAhead: 0 };

/** Host uid/gid that the job's JOB_UID/JOB_GID map to in a slot (the tests run with the default uid base). */
export function slotHostId(slot: number = TEST_SLOT): number {
  return jobHostId(slot);
}

/** getaddrinfo needs glibc's NSS modules, which a static binary cannot load. */
const DYNAMIC_FIXTURES = new Set(["net-probe"]);

let builtDir: string | undefined;

/** Compiles the fixtures (or reuses an earlier build of the same sources) and returns the directory. */
export function fixturesDir(): string {
  if (builtDir) return builtDir;
  const sources = fs.readdirSync(FIXTURE_SOURCE_DIR).sort();
  const hash = createHash("sha256");
  hash.update(execFileSync("gcc", ["--version"]));
  for (const name of sources) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(FIXTURE_SOURCE_DIR, name)));
  }
  const digest = hash.digest("hex").slice(0, 16);
  const dir = path.join(os.tmpdir(), `${FIXTURE_BUILD_PREFIX}${digest}`);
  if (!fs.existsSync(path.join(dir, ".complete"))) buildInto(dir, sources);
  for (const stale of fs.readdirSync(os.tmpdir())) {
    const stalePath = path.join(os.tmpdir(), stale);
    if (stale.startsWith(FIXTURE_BUILD_PREFIX) && stalePath !== dir && !stale.includes(".tmp-")) {
      fs.rmSync(stalePath, { recursive: true, force: true });
    }
  }
  builtDir = dir;
  return dir;
}

function buildInto(dir: string, sources: string[]): void {
  const staging = `${dir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { mode: 0o755 });
  try {
    for (const name of sources) {
      const source = path.join(FIXTURE_SOURCE_DIR, name);
      const base = name.replace(/\.c$/, "");
      if (name.endsWith(".c")) {
        const linkage = DYNAMIC_FIXTURES.has(base) ? [] : ["-static"];
        execFileSync(
          "gcc",
          [...linkage, "-O2", "-Wall", "-Wextra", "-pthread", "-o", path.join(staging, base), source],
          {
            stdio: ["ignore", "ignore", "pipe"],
          },
        );
      } else {
        fs.copyFileSync(source, path.join(staging, name));
        fs.chmodSync(path.join(staging, name), 0o755);
      }
    }
    installPrivilegedCopies(staging);
    fs.chmodSync(staging, 0o755);
    fs.writeFileSync(path.join(staging, ".complete"), "");
    try {
      fs.renameSync(staging, dir);
    } catch (error) {
      // Another test file built the same sources first; its build is as good as ours.
      if (!fs.existsSync(path.join(dir, ".complete"))) throw error;
      fs.rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * setuid-root-status: a setuid-root copy of setuid-status. filecap-status: a copy with the file
 * capability cap_setuid+ep (security.capability v2: magic|effective, permitted bit 7).
 */
function installPrivilegedCopies(dir: string): void {
  const original = path.join(dir, "setuid-status");
  const setuidCopy = path.join(dir, "setuid-root-status");
  fs.copyFileSync(original, setuidCopy);
  fs.chownSync(setuidCopy, 0, 0);
  fs.chmodSync(setuidCopy, 0o4755);
  const capCopy = path.join(dir, "filecap-status");
  fs.copyFileSync(original, capCopy);
  fs.chmodSync(capCopy, 0o755);
  execFileSync("setcap", ["cap_setuid+ep", capCopy], { stdio: ["ignore", "ignore", "pipe"] });
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: SandboxLimits = {
  cpuTimeMs: 5_000,
  wallTimeMs: 10_000,
  memoryBytes: 256 * MiB,
  pids: 64,
  outputBytes: 1 * MiB,
  fileSizeBytes: 64 * MiB,
  openFiles: 256,
  stackBytes: 8 * MiB,
  tmpfsBytes: 64 * MiB,
  cpuQuotaPercent: 0,
};

export const DEFAULT_ENV: Record<string, string> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/tmp",
  LANG: "C.UTF-8",
};

export type SpecOverrides = Partial<Omit<SandboxSpec, "limits" | "argv">> & {
  limits?: Partial<SandboxLimits>;
};

/** A spec for argv with the fixtures bound at /fixtures (plus any extra binds) and test defaults. */
export function makeSpec(argv: string[], overrides: SpecOverrides = {}): SandboxSpec {
  const { limits, binds, ...rest } = overrides;
  return {
    rootfs: { kind: "host" },
    env: { ...DEFAULT_ENV },
    cwd: "/tmp",
    stdin: Buffer.alloc(0),
    slot: TEST_SLOT,
    ...rest,
    argv,
    binds: [{ source: fixturesDir(), target: "/fixtures", writable: false }, ...(binds ?? [])],
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

/** Runs argv in a fresh sandbox. */
export async function run(argv: string[], overrides: SpecOverrides = {}): Promise<SandboxReport> {
  const report = await runSandbox(makeSpec(argv, overrides));
  runCounts.runs++;
  if (report.madeAhead) runCounts.madeAhead++;
  return report;
}

/** Path of a fixture inside the sandbox. */
export function fixture(name: string): string {
  return `/fixtures/${name}`;
}

/**
 * Runs one syscall-probe verb and returns its outcome: "SIGSYS" (or another signal name) when the
 * run was killed by a signal, else the probe's printed line ("ok", "errno=EPERM").
 */
export async function probe(verb: string): Promise<string> {
  const report = await run([fixture("syscall-probe"), verb]);
  if (report.signal) return report.signal;
  if (report.status !== "ok") return `status=${report.status} ${describe(report)}`;
  return report.stdout.toString().trim();
}

/** A one-line summary of a report for assertion messages (Buffers decoded, long output cut). */
export function describe(report: SandboxReport): string {
  const text = (b: Buffer) => b.toString("utf8", 0, Math.min(b.length, 600));
  return JSON.stringify({ ...report, stdout: text(report.stdout), stderr: text(report.stderr) });
}

/**
 * A host directory for a bind (under os.tmpdir(), or under `base`), owned by the slot's mapped
 * job uid; removed before the leak checks run.
 */
export function makeBindDir(base: string = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(base, BIND_DIR_PREFIX));
  fs.chmodSync(dir, 0o755);
  // A rootless worker with subid ranges cannot chown to its job's id: the bind is opened up instead
  // (as a rootless worker's own work dirs would need to be).
  if (ROOTLESS && slotHostId() !== process.getuid?.()) fs.chmodSync(dir, 0o777);
  else fs.chownSync(dir, slotHostId(), slotHostId());
  ownedTempDirs.push(dir);
  return dir;
}

/** Temp dirs the tests made; the leak checks remove them and then assert none are left. */
export const ownedTempDirs: string[] = [];

export { MiB };
