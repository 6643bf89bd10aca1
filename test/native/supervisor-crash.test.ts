// When the worker process dies mid-run (SIGKILL, no cleanup code runs), every process of the run
// still dies within seconds (pidns init, pdeathsig), and the next worker start-up removes the dead
// worker's cgroups.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_UID_BASE, IDS_PER_SLOT, slotIdBase } from "../../contract/sandbox-identity.ts";
import { EMULATION_SLOWDOWN, makeBindDir, slotHostId, TEST_SLOT } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CRASH_SLOT = TEST_SLOT + 2;
const SLOT_UID_FIRST = slotIdBase(DEFAULT_UID_BASE, CRASH_SLOT);

function slotProcesses(): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      const uid = Number(status.match(/^Uid:\s*(\d+)/m)?.[1]);
      if (uid >= SLOT_UID_FIRST && uid < SLOT_UID_FIRST + IDS_PER_SLOT) found.push(`${entry} uid ${uid}`);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

function cgroupsOf(pid: number): string[] {
  const found: string[] = [];
  for (const controller of ["memory", "pids", "cpu", "cpuacct"]) {
    const parent = path.join("/sys/fs/cgroup", controller, "cellblock");
    if (!fs.existsSync(parent)) continue;
    for (const name of fs.readdirSync(parent)) {
      if (name.startsWith(`${pid}-`)) found.push(path.join(parent, name));
    }
  }
  const v2 = path.join("/sys/fs/cgroup", "cellblock");
  if (fs.existsSync(path.join(v2, "cgroup.procs"))) {
    for (const name of fs.readdirSync(v2)) if (name.startsWith(`${pid}-`)) found.push(path.join(v2, name));
  }
  return found;
}

// The waits for the child workers' start-ups are scaled for test:v2's emulated CPU; the deadline
// for the job's processes to die after their worker is what the test asserts: it is not.
describe("supervisor crash", () => {
  it(
    "SIGKILLing the worker mid-run kills every job process within seconds; a restart removes its cgroups",
    async () => {
      const box = makeBindDir();
      fs.chownSync(box, slotHostId(CRASH_SLOT), slotHostId(CRASH_SLOT));
      const child = spawn(
        process.execPath,
        ["--import", "tsx", path.join(import.meta.dirname, "_crash-child.ts"), box, String(CRASH_SLOT)],
        {
          stdio: "inherit",
        },
      );
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const beacon = path.join(box, "beacon");
      const deadline = Date.now() + 20_000 * EMULATION_SLOWDOWN;
      while (!fs.existsSync(beacon) && Date.now() < deadline) await sleep(50);
      expect(fs.existsSync(beacon), "the run in the child worker never started its daemon").toBe(true);
      expect(slotProcesses().length).toBeGreaterThan(0);

      child.kill("SIGKILL");
      await exited;
      const goneBy = Date.now() + 5_000;
      while (slotProcesses().length > 0 && Date.now() < goneBy) await sleep(100);
      expect(slotProcesses(), "job processes outlived their worker").toEqual([]);
      const size = fs.statSync(beacon).size;
      await sleep(300);
      expect(fs.statSync(beacon).size, "the daemon kept writing after its worker died").toBe(size);

      const restart = spawnSync(
        process.execPath,
        ["--import", "tsx", path.join(import.meta.dirname, "_restart-child.ts")],
        {
          stdio: "inherit",
          timeout: 30_000 * EMULATION_SLOWDOWN,
        },
      );
      expect(restart.status).toBe(0);
      expect(cgroupsOf(child.pid as number), "the dead worker's run cgroups survived a restart").toEqual([]);
    },
    60_000 * EMULATION_SLOWDOWN,
  );
});
