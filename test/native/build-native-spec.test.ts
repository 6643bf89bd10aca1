// The policy the TS front hands the addon as data: the slot's ids from the contract, the program's
// rlimits, the cgroup's pids.max, and the spec's values unpacked unchanged.
import { describe, expect, it } from "vitest";
import { IDS_PER_SLOT, JOB_GID, JOB_UID, slotIdBase } from "../../contract/sandbox-identity.ts";
import { buildNativeSpec, MSGQUEUE_BYTES, rlimitsFor } from "../../native/build-native-spec.ts";
import type { SandboxLimits, SandboxSpec } from "../../native/types.ts";

const LIMITS: SandboxLimits = {
  cpuTimeMs: 2500,
  wallTimeMs: 5000,
  memoryBytes: 128 << 20,
  pids: 32,
  outputBytes: 4096,
  fileSizeBytes: 1 << 20,
  openFiles: 64,
  stackBytes: 8 << 20,
  tmpfsBytes: 16 << 20,
  cpuQuotaPercent: 150,
};

const SPEC: SandboxSpec = {
  rootfs: { kind: "image", path: "/var/lib/cellblock/images/python" },
  binds: [{ source: "/tmp/box", target: "/box", writable: true }],
  argv: ["/usr/bin/python3", "main.py"],
  env: { PATH: "/usr/bin", LANG: "C.UTF-8" },
  cwd: "/box",
  stdin: Buffer.from("input"),
  limits: LIMITS,
  slot: 3,
};

describe("buildNativeSpec", () => {
  it("passes the contract's id layout for the spec's slot", () => {
    const native = buildNativeSpec(SPEC, 300_000);
    expect(native).toMatchObject({
      slot: 3,
      hostIdBase: slotIdBase(300_000, 3),
      idCount: IDS_PER_SLOT,
      jobUid: JOB_UID,
      jobGid: JOB_GID,
    });
  });

  it("a second runner of a slot keeps the slot's ids (an interactor beside the program)", () => {
    const native = buildNativeSpec({ ...SPEC, runner: 1003 }, 300_000);
    expect(native).toMatchObject({ slot: 1003, hostIdBase: slotIdBase(300_000, 3) });
  });

  it("gives the cgroup one task more than the job's pids limit, for the container's PID 1", () => {
    expect(buildNativeSpec(SPEC, 300_000).pidsMax).toBe(LIMITS.pids + 1);
  });

  it("unpacks rootfs, binds, argv, cwd, stdin and the environment as KEY=value entries", () => {
    const native = buildNativeSpec(SPEC, 300_000);
    expect(native).toMatchObject({
      rootfsKind: "image",
      rootfsPath: "/var/lib/cellblock/images/python",
      binds: SPEC.binds,
      argv: SPEC.argv,
      cwd: "/box",
      env: ["PATH=/usr/bin", "LANG=C.UTF-8"],
      tmpfsBytes: LIMITS.tmpfsBytes,
      cpuTimeMs: 2500,
      wallTimeMs: 5000,
      memoryBytes: LIMITS.memoryBytes,
      outputBytes: 4096,
      cpuQuotaPercent: 150,
    });
    expect(native.stdin.toString()).toBe("input");
    expect(buildNativeSpec({ ...SPEC, rootfs: { kind: "host" } }, 300_000).rootfsPath).toBe("");
  });
});

describe("rlimitsFor", () => {
  it("sets no core dumps, the file size, open files and stack limits, and Linux's default 800 KiB message-queue allowance", () => {
    const byName = Object.fromEntries(rlimitsFor(LIMITS).map((l) => [l.resource, [l.soft, l.hard]]));
    expect(byName).toMatchObject({
      core: [0, 0],
      fsize: [LIMITS.fileSizeBytes, LIMITS.fileSizeBytes],
      nofile: [64, 64],
      stack: [LIMITS.stackBytes, LIMITS.stackBytes],
      msgqueue: [MSGQUEUE_BYTES, MSGQUEUE_BYTES],
    });
    expect(MSGQUEUE_BYTES).toBe(819_200);
  });

  it("caps the per-user budgets the host shares: 1,024 queued signals, 64 KiB locked memory, nproc just above the pids limit (issue 9 item 2)", () => {
    const byName = Object.fromEntries(rlimitsFor(LIMITS).map((l) => [l.resource, [l.soft, l.hard]]));
    expect(byName).toMatchObject({
      sigpending: [1024, 1024],
      memlock: [65_536, 65_536],
      nproc: [LIMITS.pids + 1, LIMITS.pids + 1],
    });
  });

  it.each([
    [500, 2],
    [1000, 3],
    [2500, 4],
    [10_000, 12],
  ])(
    "backs a %i ms CPU limit with RLIMIT_CPU at %i s: the limit's whole seconds + 2",
    (cpuTimeMs, seconds) => {
      const cpu = rlimitsFor({ ...LIMITS, cpuTimeMs }).find((l) => l.resource === "cpu");
      expect(cpu).toEqual({ resource: "cpu", soft: seconds, hard: seconds });
      // Always at least a second after the limit, so the supervisor's cgroup watch acts first.
      expect(seconds * 1000).toBeGreaterThanOrEqual(cpuTimeMs + 1000);
    },
  );

  it("sets every limit hard as well as soft, so the job cannot raise one", () => {
    for (const l of rlimitsFor(LIMITS)) expect(l.soft, l.resource).toBe(l.hard);
  });
});
