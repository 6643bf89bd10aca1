import { describe, expect, it } from "vitest";
import { cgroupParents, detectCgroupLayout } from "../../native/detect-cgroups.ts";

const line = (id: number, mountPoint: string, fs: string, superOptions: string) =>
  `${id} 23 0:${id} / ${mountPoint} rw,nosuid,nodev,noexec,relatime shared:${id} - ${fs} ${fs} ${superOptions}`;

// This development host: v1 controllers each in its own hierarchy, plus an empty cgroup2 mount.
const hybrid = [
  line(31, "/sys/fs/cgroup", "tmpfs", "rw,mode=755"),
  line(32, "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
  line(33, "/sys/fs/cgroup/cpuacct", "cgroup", "rw,cpuacct"),
  line(35, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
  line(39, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
  line(40, "/sys/fs/cgroup/systemd", "cgroup", "rw,name=systemd"),
  line(41, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
].join("\n");

// A systemd-era Debian/Ubuntu host: the unified hierarchy only.
const unified = [
  line(25, "/sys/fs/cgroup", "cgroup2", "rw,nsdelegate,memory_recursiveprot"),
  line(26, "/sys/fs/pstore", "pstore", "rw"),
].join("\n");

// Older distributions co-mount cpu and cpuacct.
const comounted = [
  line(32, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
  line(35, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
  line(39, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
].join("\n");

describe("cgroup layout detection", () => {
  it("treats a hybrid host (v1 controllers plus an empty cgroup2 mount) as v1", () => {
    expect(detectCgroupLayout(hybrid)).toEqual({
      version: 1,
      controllers: {
        memory: "/sys/fs/cgroup/memory",
        pids: "/sys/fs/cgroup/pids",
        cpu: "/sys/fs/cgroup/cpu",
        cpuacct: "/sys/fs/cgroup/cpuacct",
      },
    });
  });

  it("gives runs a blkio parent (disk I/O limits) where the host mounts the blkio hierarchy", () => {
    const layout = detectCgroupLayout(`${hybrid}\n${line(38, "/sys/fs/cgroup/blkio", "cgroup", "rw,blkio")}`);
    expect(cgroupParents(layout, "cellblock")).toEqual([
      "/sys/fs/cgroup/memory/cellblock",
      "/sys/fs/cgroup/pids/cellblock",
      "/sys/fs/cgroup/cpu/cellblock",
      "/sys/fs/cgroup/cpuacct/cellblock",
      "/sys/fs/cgroup/blkio/cellblock",
    ]);
  });

  it("detects a unified cgroup v2 host and puts our parent directly under it", () => {
    const layout = detectCgroupLayout(unified);
    expect(layout).toEqual({ version: 2, root: "/sys/fs/cgroup" });
    expect(cgroupParents(layout, "cellblock")).toEqual(["/sys/fs/cgroup/cellblock"]);
  });

  it("finds co-mounted cpu,cpuacct hierarchies and gives both controllers the same parent", () => {
    const layout = detectCgroupLayout(comounted);
    expect(cgroupParents(layout, "cb")).toEqual([
      "/sys/fs/cgroup/memory/cb",
      "/sys/fs/cgroup/pids/cb",
      "/sys/fs/cgroup/cpu,cpuacct/cb",
      "/sys/fs/cgroup/cpu,cpuacct/cb",
    ]);
  });

  it("names the missing controllers when neither layout is usable", () => {
    const noPids = hybrid
      .split("\n")
      .filter((l) => !l.includes("pids"))
      .join("\n");
    expect(() => detectCgroupLayout(noPids)).toThrow(/controllers missing: pids/);
  });

  it("reads this host's own mountinfo without error", async () => {
    const { readFileSync } = await import("node:fs");
    const layout = detectCgroupLayout(readFileSync("/proc/self/mountinfo", "utf8"));
    expect([1, 2]).toContain(layout.version);
  });
});
