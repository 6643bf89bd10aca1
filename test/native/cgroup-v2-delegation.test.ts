// cgroup v2 controller delegation against an in-memory cgroupfs that enforces the "no internal
// processes" rule, so the container / Delegate=yes case is tested on this v1 host.
import { describe, expect, it } from "vitest";
import { type CgroupFs, delegateV2Controllers } from "../../native/cgroup-v2-delegation.ts";

/** A tiny model of cgroup v2: subtree_control writes fail with EBUSY while the group has processes. */
function fakeCgroupFs(procs: Record<string, number[]>, enabled: Record<string, string[]> = {}) {
  const writes: string[] = [];
  const dirs = new Set(Object.keys(procs));
  const fs: CgroupFs = {
    mkdir: (path) => {
      dirs.add(path);
      procs[path] ??= [];
    },
    read: (path) => {
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (path.endsWith("/cgroup.procs")) return (procs[dir] ?? []).join("\n");
      return (enabled[dir] ?? []).join(" ");
    },
    write: (path, value) => {
      writes.push(`${path} <- ${value}`);
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (path.endsWith("/cgroup.procs")) {
        for (const list of Object.values(procs))
          list.splice(0, list.length, ...list.filter((p) => p !== Number(value)));
        procs[dir]?.push(Number(value));
        return;
      }
      if ((procs[dir]?.length ?? 0) > 0 && dir !== "/sys/fs/cgroup")
        throw Object.assign(new Error("EBUSY"), { code: "EBUSY" });
      enabled[dir] = [...(enabled[dir] ?? []), ...value.split(" ").map((c) => c.slice(1))];
    },
  };
  return { fs, writes, procs, enabled };
}

describe("cgroup v2 controller delegation", () => {
  it("enables memory, pids and cpu in the root and in our parent on a plain v2 host", () => {
    const { fs, enabled } = fakeCgroupFs({ "/sys/fs/cgroup": [1, 42] });
    delegateV2Controllers("/sys/fs/cgroup", "/sys/fs/cgroup/cellblock", 42, fs);
    expect(enabled["/sys/fs/cgroup"]).toEqual(["memory", "pids", "cpu"]);
    expect(enabled["/sys/fs/cgroup/cellblock"]).toEqual(["memory", "pids", "cpu"]);
  });

  it("writes nothing when the controllers are already enabled", () => {
    const all = ["cpuset", "cpu", "io", "memory", "pids"];
    const { fs, writes } = fakeCgroupFs(
      { "/sys/fs/cgroup": [] },
      { "/sys/fs/cgroup": all, "/sys/fs/cgroup/cb": all },
    );
    delegateV2Controllers("/sys/fs/cgroup", "/sys/fs/cgroup/cb", 7, fs);
    expect(writes).toEqual([]);
  });

  it("moves only its own process into a leaf when it lives in a delegated group, then enables", () => {
    const root = "/sys/fs/cgroup/system.slice/cellblock.service";
    const { fs, procs, enabled } = fakeCgroupFs({ [root]: [42] });
    delegateV2Controllers(root, `${root}/cellblock`, 42, fs);
    expect(procs[root]).toEqual([]);
    expect(procs[`${root}/cellblock-supervisor`]).toEqual([42]);
    expect(enabled[root]).toEqual(["memory", "pids", "cpu"]);
  });

  it("refuses, naming the fix, when other processes share the group", () => {
    const root = "/sys/fs/cgroup/shared";
    const { fs, procs } = fakeCgroupFs({ [root]: [42, 99] });
    expect(() => delegateV2Controllers(root, `${root}/cellblock`, 42, fs)).toThrow(
      /EBUSY.*delegated subtree/,
    );
    expect(procs[root]).toContain(99); // never touched
  });
});
