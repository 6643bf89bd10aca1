// Leak checks run after every sandbox test: whatever a run did (fork bombs, daemons, ignored
// signals, full tmpfs), nothing of it may outlive the run. "Nothing" means:
//   - no run cgroup of this process under <cgroupfs>/<controller>/cellblock/ (v1) or
//     <cgroupfs>/cellblock/ (v2) beyond the parent dirs that existed after a warm-up run, and no
//     tasks in any cgroup this process made;
//   - no new mount in this process's mount namespace whose line mentions "cellblock";
//   - no process with a sandbox host uid (a slot's range, contract/sandbox-identity.ts) that belongs to one of our run
//     cgroups or to no cellblock cgroup at all, wherever it was reparented;
//   - no new child process of this test process;
//   - no test bind dir left in os.tmpdir().
// Other sessions run sandboxes, image builds and services on this machine at the same time, so
// checks are scoped to what this process made (run cgroups are named "<creator pid>-s<slot>-<n>"),
// and a finding must persist for a few seconds before it counts.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { DEFAULT_UID_BASE, slotIdBase } from "../../contract/sandbox-identity.ts";
import { releaseStandbys, runSandbox } from "../../native/index.ts";
import { BIND_DIR_PREFIX, makeSpec, ownedTempDirs, runCounts, TEST_PREWARM } from "./_fixtures.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";
const CGROUP_V1_CONTROLLERS = ["memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio"];
// The first 256 slots of the default uid base: every slot a test uses.
const SANDBOX_UID_FIRST = DEFAULT_UID_BASE;
const SANDBOX_UID_END = slotIdBase(DEFAULT_UID_BASE, 256);
const SETTLE_MS = 5_000;
const IMAGE_BUILD_AREA = "/var/lib/cellblock/images/";

/** Every cellblock cgroup directory on this host, v1 and v2 layouts alike. */
function cellblockCgroupRoots(): string[] {
  const roots = [path.join(CGROUP_ROOT, "cellblock"), path.join(CGROUP_ROOT, "unified", "cellblock")];
  for (const controller of CGROUP_V1_CONTROLLERS) roots.push(path.join(CGROUP_ROOT, controller, "cellblock"));
  return roots.filter((root) => fs.existsSync(root));
}

/** Run cgroups are named "<pid of the creating process>-…"; others' runs are not our leaks. */
function isOurs(dir: string): boolean {
  const owner = /^(\d+)-/.exec(path.basename(dir))?.[1];
  return owner === undefined || Number(owner) === process.pid;
}

function cgroupDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    found.push(dir);
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
    }
  };
  for (const root of cellblockCgroupRoots()) {
    try {
      walk(root);
    } catch {
      // Removed while we walked: not a leak.
    }
  }
  return found;
}

function cgroupTasks(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  name: string;
  cgroups: string;
}

function processes(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(\\S+)`, "m"))?.[1] ?? "";
      let cgroups = "";
      try {
        cgroups = fs.readFileSync(`/proc/${entry}/cgroup`, "utf8");
      } catch {
        // Exited while we looked.
      }
      list.push({
        pid: Number(entry),
        ppid: Number(field("PPid")),
        uid: Number(field("Uid")),
        name: field("Name"),
        cgroups,
      });
    } catch {
      // Exited while we looked.
    }
  }
  return list;
}

function cellblockTmpEntries(): string[] {
  return fs
    .readdirSync(os.tmpdir())
    .filter((name) => name.startsWith(BIND_DIR_PREFIX))
    .map((name) => path.join(os.tmpdir(), name));
}

/** Mounts mentioning cellblock, except the rootfs image builder's own work area. */
function cellblockMounts(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => line.includes("cellblock") && !line.includes(IMAGE_BUILD_AREA));
}

/** A sandbox process is ours when it sits in one of our run cgroups, and a leak wherever it sits outside cellblock. */
function isOurSandboxProcess(p: ProcessInfo): boolean {
  if (p.uid < SANDBOX_UID_FIRST || p.uid >= SANDBOX_UID_END) return false;
  if (!p.cgroups.includes("/cellblock")) return p.cgroups !== "";
  return p.cgroups.includes(`/cellblock/${process.pid}-`);
}

interface Baseline {
  cgroups: Set<string>;
  children: Set<number>;
  tmpEntries: Set<string>;
  mounts: Set<string>;
}

function findLeaks(baseline: Baseline): string[] {
  const leaks: string[] = [];
  for (const dir of cgroupDirs()) {
    if (!isOurs(dir)) continue;
    if (!baseline.cgroups.has(dir)) leaks.push(`cgroup dir ${dir}`);
    const tasks = cgroupTasks(dir);
    if (tasks.length > 0 && !cellblockCgroupRoots().includes(dir)) {
      leaks.push(`cgroup ${dir} still has tasks ${tasks.join(",")}`);
    }
  }
  for (const line of cellblockMounts()) {
    if (!baseline.mounts.has(line)) leaks.push(`mount ${line}`);
  }
  for (const p of processes()) {
    if (isOurSandboxProcess(p)) {
      leaks.push(
        `process ${p.pid} (${p.name}) uid ${p.uid} parent ${p.ppid} cgroups ${p.cgroups.replace(/\n/g, " ")}`,
      );
    } else if (p.ppid === process.pid && !baseline.children.has(p.pid)) {
      leaks.push(`child process ${p.pid} (${p.name}) of the test process`);
    }
  }
  for (const entry of cellblockTmpEntries()) {
    if (!baseline.tmpEntries.has(entry)) leaks.push(`temp entry ${entry}`);
  }
  return leaks;
}

async function settledLeaks(baseline: Baseline): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  let leaks = findLeaks(baseline);
  while (leaks.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    leaks = findLeaks(baseline);
  }
  return leaks;
}

function removeOwnedTempDirs(): void {
  for (const dir of ownedTempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Registers the leak checks for the calling test file. A warm-up run first lets the sandbox create
 * its long-lived parent cgroups, which are then part of the baseline.
 */
export function installLeakChecks(): void {
  const baseline: Baseline = {
    cgroups: new Set(),
    children: new Set(),
    tmpEntries: new Set(),
    mounts: new Set(),
  };

  beforeAll(async () => {
    await runSandbox(makeSpec(["/bin/true"]));
    if (TEST_PREWARM) await releaseStandbys();
    const deadline = Date.now() + SETTLE_MS;
    const busy = () =>
      cgroupDirs().some(
        (dir) => isOurs(dir) && !cellblockCgroupRoots().includes(dir) && cgroupTasks(dir).length > 0,
      );
    while (busy() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    baseline.cgroups = new Set(cgroupDirs().filter((dir) => cgroupTasks(dir).length === 0));
  });

  beforeEach(async () => {
    // Two runs with the default request: the slot's next container is made ahead for it.
    if (TEST_PREWARM) for (let i = 0; i < 2; i++) await runSandbox(makeSpec(["/bin/true"]));
    baseline.children = new Set(
      processes()
        .filter((p) => p.ppid === process.pid)
        .map((p) => p.pid),
    );
    baseline.tmpEntries = new Set(cellblockTmpEntries());
    baseline.mounts = new Set(cellblockMounts());
  });

  afterEach(async () => {
    if (TEST_PREWARM) await releaseStandbys();
    removeOwnedTempDirs();
    const leaks = await settledLeaks(baseline);
    expect(leaks, "left behind after the run").toEqual([]);
  });

  afterAll(() => {
    removeOwnedTempDirs();
    if (TEST_PREWARM)
      console.log(`CELLBLOCK_TEST_PREWARM: ${runCounts.madeAhead} of ${runCounts.runs} runs made ahead`);
  });
}
