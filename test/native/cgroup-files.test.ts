// The cgroup code in native/src/cgroup-v2.c (and v1) run against fixture directories: the same C
// functions the supervisor uses, pointed at plain files, so the v2 paths are exercised on a v1 host.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadAddon } from "../../native/addon.ts";

let parent: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), "cellblock-cgfixture-"));
});
afterEach(() => rmSync(parent, { recursive: true, force: true }));

const fixture = (args: Record<string, unknown>) =>
  loadAddon().cgroupFixture({ memoryBytes: 0, pids: 0, cpuQuotaPercent: 0, name: "run", ...args });

function writeGroup(files: Record<string, string>): void {
  mkdirSync(join(parent, "run"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(parent, "run", name), text);
}

describe("cgroup v2 files", () => {
  it("creates a run group with memory.max, no swap, oom.group, pids.max and cpu.max", () => {
    const r = fixture({
      op: "create",
      version: 2,
      parent,
      memoryBytes: 268435456,
      pids: 64,
      cpuQuotaPercent: 150,
    });
    expect(r.rc).toBe(0);
    const read = (f: string) => readFileSync(join(parent, "run", f), "utf8");
    expect(read("memory.max")).toBe("268435456");
    expect(read("memory.swap.max")).toBe("0");
    expect(read("memory.oom.group")).toBe("1");
    expect(read("pids.max")).toBe("64");
    expect(read("cpu.max")).toBe("150000 100000");
  });

  // Issue 9 item 5: disk I/O limits per run group.
  it("limits disk I/O with one io.max line per disk, max for a rate that is 0", () => {
    const io = { readBps: 4194304, writeBps: 0, readIops: 100, writeIops: 0, devices: [[254, 0]] };
    const r = fixture({ op: "create", version: 2, parent, memoryBytes: 1 << 26, pids: 8, io });
    expect(r, String(r.error)).toMatchObject({ rc: 0 });
    expect(readFileSync(join(parent, "run", "io.max"), "utf8")).toBe(
      "254:0 rbps=4194304 wbps=max riops=100 wiops=max",
    );
  });

  it("writes no io.max when every rate is 0", () => {
    const io = { readBps: 0, writeBps: 0, readIops: 0, writeIops: 0, devices: [[254, 0]] };
    const r = fixture({ op: "create", version: 2, parent, memoryBytes: 1 << 26, pids: 8, io });
    expect(r.rc).toBe(0);
    expect(existsSync(join(parent, "run", "io.max"))).toBe(false);
  });

  it("reports a failed create with the file and the group named", () => {
    mkdirSync(join(parent, "run"));
    const r = fixture({ op: "create", version: 2, parent, memoryBytes: 1, pids: 1 });
    expect(r.rc).toBeLessThan(0);
    expect(String(r.error)).toContain(join(parent, "run"));
  });

  it("reads CPU, peak memory, OOM kills, limit hits and pids hits from cpu.stat, memory.peak and the events files", () => {
    writeGroup({
      // As Linux 6.1 writes them for a run group (test:v2's VM), with the figures changed.
      "cpu.stat":
        "usage_usec 1500000\nuser_usec 1200000\nsystem_usec 300000\nnr_periods 0\nnr_throttled 0\n" +
        "throttled_usec 0\nnr_bursts 0\nburst_usec 0\n",
      "memory.peak": "104857600\n",
      "memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
      "pids.events": "max 3\n",
    });
    const s = fixture({ op: "stats", version: 2, parent });
    expect(s).toMatchObject({
      cpuNs: 1.5e9,
      userNs: 1.2e9,
      systemNs: 3e8,
      peakBytes: 104857600,
      oomKills: 1,
      memoryMaxHits: 12,
      pidsMaxHits: 3,
    });
  });

  it("reads zeros, not garbage, from a kernel without memory.peak (before 5.19)", () => {
    writeGroup({
      "cpu.stat": "usage_usec 10\nuser_usec 5\nsystem_usec 5\n",
      "memory.events": "max 0\noom_kill 0\n",
    });
    const s = fixture({ op: "stats", version: 2, parent });
    expect(s.peakBytes).toBe(0);
    expect(s.oomKills).toBe(0);
    expect(s.cpuNs).toBe(10000);
  });
});

describe("cgroup v1 files", () => {
  it("on a host whose cpu and cpuacct share one hierarchy, creates, limits and joins the run group once per hierarchy", () => {
    // Regression: attach wrote cgroup.procs in the empty directory name of the shared hierarchy
    // ("/cgroup.procs"), so every run failed on hosts that mount cpu,cpuacct together.
    const [memory, pids, cpu] = ["memory", "pids", "cpu,cpuacct"].map((d) => join(parent, d));
    for (const dir of [memory, pids, cpu]) mkdirSync(dir as string);
    const r = fixture({
      op: "create",
      version: 1,
      parents: [memory, pids, cpu, cpu],
      memoryBytes: 67108864,
      pids: 9,
      cpuQuotaPercent: 50,
      attachPid: 4242,
    });
    expect(r, String(r.error)).toMatchObject({ rc: 0, error: "" });
    const read = (dir: string | undefined, f: string) => readFileSync(join(dir as string, "run", f), "utf8");
    expect(read(memory, "memory.limit_in_bytes")).toBe("67108864");
    expect(read(pids, "pids.max")).toBe("9");
    expect(read(cpu, "cpu.cfs_quota_us")).toBe("50000");
    for (const dir of [memory, pids, cpu]) expect(read(dir, "cgroup.procs")).toBe("4242");
  });

  it("limits disk I/O with one blkio.throttle rule per disk and rate in the blkio group, none for a rate that is 0", () => {
    const dirs = ["memory", "pids", "cpu", "cpuacct", "blkio"].map((d) => join(parent, d));
    for (const dir of dirs) mkdirSync(dir);
    const io = { readBps: 8388608, writeBps: 0, readIops: 0, writeIops: 500, devices: [[8, 0]] };
    const r = fixture({ op: "create", version: 1, parents: dirs, memoryBytes: 1 << 26, pids: 8, io });
    expect(r, String(r.error)).toMatchObject({ rc: 0, error: "" });
    const blkio = join(parent, "blkio", "run");
    expect(readFileSync(join(blkio, "blkio.throttle.read_bps_device"), "utf8")).toBe("8:0 8388608");
    expect(readFileSync(join(blkio, "blkio.throttle.write_iops_device"), "utf8")).toBe("8:0 500");
    expect(existsSync(join(blkio, "blkio.throttle.write_bps_device"))).toBe(false);
    expect(existsSync(join(blkio, "blkio.throttle.read_iops_device"))).toBe(false);
  });

  it("refuses disk I/O limits on a host without a blkio hierarchy, naming the controller", () => {
    const dirs = ["memory", "pids", "cpu", "cpuacct"].map((d) => join(parent, d));
    for (const dir of dirs) mkdirSync(dir);
    const io = { readBps: 1, writeBps: 0, readIops: 0, writeIops: 0, devices: [[8, 0]] };
    const r = fixture({ op: "create", version: 1, parents: dirs, memoryBytes: 1 << 26, pids: 8, io });
    expect(r.rc).toBeLessThan(0);
    expect(String(r.error)).toMatch(/blkio/);
  });

  it("reads cpuacct, max_usage_in_bytes, oom_control and pids.events, splitting CPU time in the user/sys proportion", () => {
    writeGroup({
      "cpuacct.usage": "2000000000\n",
      "cpuacct.usage_user": "1000\n",
      "cpuacct.usage_sys": "3000\n",
      "memory.max_usage_in_bytes": "52428800\n",
      "memory.failcnt": "4\n",
      "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
      "pids.events": "max 7\n",
    });
    const s = fixture({ op: "stats", version: 1, parent });
    expect(s).toMatchObject({
      cpuNs: 2e9,
      userNs: 5e8,
      systemNs: 1.5e9,
      peakBytes: 52428800,
      oomKills: 2,
      memoryMaxHits: 4,
      pidsMaxHits: 7,
    });
  });
});
