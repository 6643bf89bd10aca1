// Rootless mode's id layout and prerequisites from fixture hosts (native/rootless.ts): which ids
// each slot maps, and every missing piece named with its fix. The real thing, a worker as an
// ordinary user, runs in test:v2's VM (scripts/v2-rootless.sh, v2-rootless-setup.test.ts).
import { describe, expect, it } from "vitest";
import { IDS_PER_SLOT, JOB_UID } from "../../contract/sandbox-identity.ts";
import { buildNativeSpec } from "../../native/build-native-spec.ts";
import {
  layoutJobHostId,
  missingDelegation,
  type RootlessView,
  rootlessIdLayout,
  slotIds,
  subidRange,
} from "../../native/rootless.ts";
import { DEFAULT_LIMITS, describe as describeReport, ROOTLESS, run } from "./_fixtures.ts";

const RANGES = "other:100000:65536\nworker:1000000:1048576\n";

function view(
  changes: Partial<RootlessView> & { files?: Record<string, string | undefined> } = {},
): RootlessView {
  const files: Record<string, string | undefined> = {
    "/etc/subuid": RANGES,
    "/etc/subgid": RANGES,
    ...changes.files,
  };
  return {
    read: (p) => files[p],
    executable: (p) => p === "/usr/bin/newuidmap" || p === "/usr/bin/newgidmap",
    writable: () => true,
    uid: 1500,
    gid: 1500,
    userName: "worker",
    ...changes,
  };
}

describe("rootless id layout", () => {
  it("finds the user's range by name or by uid, skipping other users and malformed lines", () => {
    expect(subidRange(RANGES, "worker", 1500)).toEqual([1000000, 1048576]);
    expect(subidRange("1500:300000:65536\n", undefined, 1500)).toEqual([300000, 65536]);
    expect(subidRange("worker:x:1\nworker:-5:10\nworker:7\n", "worker", 1500)).toBeUndefined();
    expect(subidRange(undefined, "worker", 1500)).toBeUndefined();
  });

  it("subid mode: each slot maps its own IDS_PER_SLOT ids out of the ranges, the job at JOB_UID", () => {
    const r = rootlessIdLayout(view(), "subid");
    expect(r.missing).toEqual([]);
    const layout = r.layout;
    if (!layout) throw new Error("no layout");
    expect(layout).toMatchObject({
      mode: "subid",
      uidBase: 1000000,
      slots: 16,
      newuidmap: "/usr/bin/newuidmap",
    });
    expect(slotIds(layout, 3)).toEqual({
      hostIdBase: 1000000 + 3 * IDS_PER_SLOT,
      idCount: IDS_PER_SLOT,
      jobUid: JOB_UID,
      jobGid: JOB_UID,
    });
    expect(layoutJobHostId(layout, 0)).toBe(1000000 + JOB_UID);
    expect(() => slotIds(layout, 16)).toThrow(/slot 16 is beyond the worker's subuid\/subgid ranges/);
    expect(
      buildNativeSpec(
        {
          rootfs: { kind: "host" },
          binds: [],
          argv: ["/bin/true"],
          env: {},
          cwd: "/",
          stdin: Buffer.alloc(0),
          limits: DEFAULT_LIMITS,
          slot: 2,
        },
        200000,
        layout,
      ),
    ).toMatchObject({
      hostIdBase: 1000000 + 2 * IDS_PER_SLOT,
      idCount: IDS_PER_SLOT,
    });
  });

  it("single mode: inside id 0 is the worker's own uid and gid, one id, in every slot", () => {
    const r = rootlessIdLayout(view({ files: { "/etc/subuid": undefined } }), "single");
    expect(r.missing).toEqual([]);
    const layout = r.layout;
    if (!layout) throw new Error("no layout");
    for (const slot of [0, 7])
      expect(slotIds(layout, slot)).toEqual({ hostIdBase: 1500, idCount: 1, jobUid: 0, jobGid: 0 });
    expect(layoutJobHostId(layout, 5)).toBe(1500);
    // PID 1 shares the job's uid: RLIMIT_NPROC one further up, so the pids cgroup still binds first.
    const spec = {
      rootfs: { kind: "host" as const },
      binds: [],
      argv: ["/bin/true"],
      env: {},
      cwd: "/",
      stdin: Buffer.alloc(0),
      limits: { ...DEFAULT_LIMITS, pids: 16 },
      slot: 0,
    };
    const nproc = (l?: typeof layout) =>
      buildNativeSpec(spec, 200000, l).rlimits.find((r) => r.resource === "nproc");
    expect(nproc()).toEqual({ resource: "nproc", soft: 17, hard: 17 });
    expect(nproc(layout)).toEqual({ resource: "nproc", soft: 18, hard: 18 });
  });

  it("names missing helpers and ranges, each with its fix and the single-id way out", () => {
    const r = rootlessIdLayout(
      view({ executable: () => false, files: { "/etc/subuid": "", "/etc/subgid": undefined } }),
      "subid",
    );
    expect(r.layout).toBeUndefined();
    expect(r.missing.map((m) => m.name)).toEqual(["id-map-helpers", "subid-ranges"]);
    expect(r.missing[0]?.fix).toContain("apt-get install uidmap");
    expect(r.missing[1]?.problem).toBe("worker has no range in /etc/subuid and /etc/subgid");
    expect(r.missing[1]?.fix).toContain("usermod --add-subuids");
    for (const m of r.missing) expect(m.fix).toContain("SANDBOX_ID_MAP=single");
  });

  it("names a uid without a passwd entry: the helpers refuse it", () => {
    const r = rootlessIdLayout(
      view({
        userName: undefined,
        files: { "/etc/subuid": "1500:1000000:65536\n", "/etc/subgid": "1500:1000000:65536\n" },
      }),
      "subid",
    );
    expect(r.missing.map((m) => m.name)).toEqual(["user-name"]);
    expect(r.missing[0]?.problem).toBe(
      "uid 1500 has no passwd entry, and newuidmap/newgidmap look the user up by name",
    );
  });

  it("refuses ranges too small for one slot, or starting at different ids for uids and gids", () => {
    const small = rootlessIdLayout(view({ files: { "/etc/subuid": "worker:1000000:1000\n" } }), "subid");
    expect(small.missing.map((m) => m.name)).toEqual(["subid-ranges"]);
    expect(small.missing[0]?.problem).toContain(`at least ${IDS_PER_SLOT} ids`);
    const apart = rootlessIdLayout(view({ files: { "/etc/subgid": "worker:2000000:1048576\n" } }), "subid");
    expect(apart.missing[0]?.problem).toContain("must start at the same id");
  });
});

describe("rootless cgroup delegation", () => {
  it("needs cgroup v2", () => {
    expect(missingDelegation(view(), undefined).map((m) => m.name)).toEqual(["cgroup-delegation"]);
  });

  it("names the cgroup files of a subtree not delegated to the worker, and how to delegate it", () => {
    const root = "/sys/fs/cgroup/job";
    expect(missingDelegation(view(), root)).toEqual([]);
    const missing = missingDelegation(view({ writable: (p) => p === root }), root);
    expect(missing.map((m) => m.name)).toEqual(["cgroup-delegation"]);
    expect(missing[0]?.problem).toBe(
      `uid 1500 cannot write ${root}/cgroup.procs, ${root}/cgroup.subtree_control: the cgroup subtree is not delegated to the worker`,
    );
    expect(missing[0]?.fix).toContain("Delegate=yes");
  });
});

// Single-id mode for real: only when the tests run as a user with CELLBLOCK_TEST_ID_MAP=single
// (test:v2's VM with V2_ROOTLESS=single, scripts/v2-rootless.sh).
const single = ROOTLESS && process.env.CELLBLOCK_TEST_ID_MAP === "single";
describe.skipIf(!single)("single-id mode, as an ordinary user", () => {
  it("maps only the worker's own ids, denies setgroups, and the job is uid 0 without any capability", async () => {
    const report = await run([
      "/bin/sh",
      "-c",
      "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status",
    ]);
    expect(report.status, describeReport(report)).toBe("ok");
    const lines = report.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines.slice(0, 4)).toEqual([
      `0 ${process.getuid?.()} 1`,
      `0 ${process.getgid?.()} 1`,
      "deny",
      "0",
    ]);
    expect(lines.slice(4)).toEqual([
      "CapPrm: 0000000000000000",
      "CapEff: 0000000000000000",
      "CapBnd: 0000000000000000",
      "NoNewPrivs: 1",
      "Seccomp: 2",
    ]);
  });
});
