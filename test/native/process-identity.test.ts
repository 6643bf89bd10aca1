// Who the job is: uid 1000 with no capabilities, no_new_privs and a seccomp filter; setuid and
// file-capability binaries grant nothing; only fds 0-2 and exactly the given environment.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_UID_BASE,
  IDS_PER_SLOT,
  JOB_GID,
  JOB_UID,
  slotIdBase,
} from "../../contract/sandbox-identity.ts";
import { eventually } from "../helpers/eventually.ts";
import {
  describe as describeReport,
  fixture,
  makeBindDir,
  ROOTLESS,
  run,
  slotHostId,
  TEST_SLOT,
} from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

function statusField(status: string, name: string): string | undefined {
  return status.match(new RegExp(`^${name}:[ \\t]*(.*)$`, "m"))?.[1]?.trim();
}

describe("process identity", () => {
  it("/proc/self/status shows uid 1000, no capabilities, NoNewPrivs 1 and Seccomp 2", async () => {
    const report = await run(["/usr/bin/cat", "/proc/self/status"]);
    expect(report.status, describeReport(report)).toBe("ok");
    const status = report.stdout.toString();
    for (const cap of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) {
      expect(statusField(status, cap), cap).toBe("0000000000000000");
    }
    expect(statusField(status, "NoNewPrivs")).toBe("1");
    expect(statusField(status, "Seccomp")).toBe("2");
    expect(statusField(status, "Uid")?.split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
    expect(statusField(status, "Gid")?.split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
    expect(statusField(status, "Groups")).toBe("");
  });

  it("maps the contract's id layout: ids 0..IDS_PER_SLOT-1 are the slot's host range, and the job is JOB_UID/JOB_GID", async () => {
    const report = await run(["/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"]);
    expect(report.status, describeReport(report)).toBe("ok");
    const [uidMap, gidMap, uid, gid] = report.stdout.toString().trim().split("\n");
    // slotIdBase(uidBase, TEST_SLOT); a rootless worker's slots come out of its subuid range.
    const expected = ["0", String(slotHostId() - JOB_UID), String(IDS_PER_SLOT)];
    expect(uidMap?.trim().split(/\s+/)).toEqual(expected);
    expect(gidMap?.trim().split(/\s+/)).toEqual(expected);
    expect([Number(uid), Number(gid)]).toEqual([JOB_UID, JOB_GID]);
  });

  it("sits in its own cgroup namespace: /proc/self/cgroup shows only the root path", async () => {
    const report = await run(["/usr/bin/cat", "/proc/self/cgroup"]);
    expect(report.status, describeReport(report)).toBe("ok");
    const lines = report.stdout.toString().trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line, "the host cgroup path is visible").toMatch(/:\/$/);
  });

  it("id reports uid 1000 named runner", async () => {
    const report = await run(["/usr/bin/id"]);
    expect(report.stdout.toString(), describeReport(report)).toMatch(/^uid=1000\(runner\) gid=1000/);
  });

  it("has no controlling terminal", async () => {
    const report = await run([
      "/usr/bin/python3",
      "-c",
      "import os\ntry:\n os.open('/dev/tty', os.O_RDWR)\n print('tty')\nexcept OSError as e:\n print(e.errno)",
    ]);
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString().trim()).not.toBe("tty");
  });
});

describe("rlimits and nested namespaces", () => {
  it("rlimits are set from the spec: core 0, file size, open files, stack", async () => {
    const limits = { fileSizeBytes: 3 * 1024 * 1024, openFiles: 77, stackBytes: 4 * 1024 * 1024 };
    const report = await run(["/usr/bin/cat", "/proc/self/limits"], { limits });
    expect(report.status, describeReport(report)).toBe("ok");
    const text = report.stdout.toString();
    const soft = (name: string) => text.match(new RegExp(`^${name}\\s+(\\S+)`, "m"))?.[1];
    expect(soft("Max core file size")).toBe("0");
    expect(soft("Max file size")).toBe(String(limits.fileSizeBytes));
    expect(soft("Max open files")).toBe(String(limits.openFiles));
    expect(soft("Max stack size")).toBe(String(limits.stackBytes));
  });

  it("user namespaces cannot be nested even past the filter (max_user_namespaces is 0)", async () => {
    const report = await run(["/usr/bin/cat", "/proc/sys/user/max_user_namespaces"]);
    expect(report.stdout.toString().trim(), describeReport(report)).toBe("0");
  });
});

// Issue 9 item 2: the user namespace was owned by host root, so a job's per-user counters
// (inotify instances, queued signals, message-queue bytes) were charged to root's budget.
describe("per-user kernel budgets", () => {
  it("the job's user namespace is owned by its slot's first host id, not by host root", async () => {
    const box = makeBindDir();
    const marker = `owner-probe-${process.pid}-${Date.now()}`;
    const script = `import os, time
open("/box/ready", "w").close()
while not os.path.exists("/box/release"): time.sleep(0.01)
# ${marker}`;
    const job = run(["/usr/bin/python3", "-c", script], {
      binds: [{ source: box, target: "/box", writable: true }],
    });
    try {
      await eventually(() => fs.existsSync(path.join(box, "ready")), { what: "the job to start" });
      const pid = fs
        .readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .find((entry) => {
          try {
            return fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker);
          } catch {
            return false;
          }
        });
      expect(pid).toBeDefined();
      // NS_GET_OWNER_UID (_IO(0xb7, 4)) on the job's namespace, asked from the host.
      const owner = execFileSync("python3", [
        "-c",
        `import ctypes, fcntl, os
uid = ctypes.c_uint(0)
fcntl.ioctl(os.open("/proc/${pid}/ns/user", os.O_RDONLY), 0xb704, uid)
print(uid.value)`,
      ]).toString();
      // Rootless: the worker owns every namespace it creates and cannot switch (docs/CGROUP-V2.md).
      expect(Number(owner)).toBe(ROOTLESS ? process.getuid?.() : slotIdBase(DEFAULT_UID_BASE, TEST_SLOT));
    } finally {
      fs.writeFileSync(path.join(box, "release"), "");
      await job;
    }
  });

  // Rootless, the job's counters are charged to the worker's user, who owns its namespace: the
  // difference docs/CGROUP-V2.md states (the rlimits below still hold).
  it.skipIf(ROOTLESS)(
    "a job holding all the inotify instances it can get leaves host root able to make one",
    async () => {
      const box = makeBindDir();
      const script = `import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
held = 0
while libc.inotify_init1(0) >= 0: held += 1
open("/box/holding", "w").write(str(held))
while not os.path.exists("/box/release"): time.sleep(0.01)
print(held)`;
      const job = run(["/usr/bin/python3", "-c", script], {
        binds: [{ source: box, target: "/box", writable: true }],
      });
      await eventually(() => fs.existsSync(path.join(box, "holding")), {
        what: "the job holding its instances",
      });
      const rootCan = execFileSync("python3", [
        "-c",
        "import ctypes; print('ok' if ctypes.CDLL(None).inotify_init1(0) >= 0 else 'refused')",
      ]).toString();
      fs.writeFileSync(path.join(box, "release"), "");
      const report = await job;
      expect(report.status, describeReport(report)).toBe("ok");
      expect(Number(report.stdout.toString())).toBeGreaterThan(0);
      expect(rootCan).toBe("ok\n");
    },
  );

  it("queued signals, locked memory and processes have the job's own low rlimits", async () => {
    const report = await run(["/usr/bin/cat", "/proc/self/limits"], { limits: { pids: 40 } });
    const limits = report.stdout.toString();
    expect(limits).toMatch(/Max pending signals\s+1024\s+1024/);
    expect(limits).toMatch(/Max locked memory\s+65536\s+65536/);
    expect(limits).toMatch(/Max processes\s+41\s+41/);
  });
});

describe("setuid and file-capability binaries", () => {
  it.each([
    ["a setuid-root binary", "setuid-root-status"],
    ["a binary with the cap_setuid+ep file capability", "filecap-status"],
  ])("%s gains no privilege", async (_name, binary) => {
    const report = await run([fixture(binary)]);
    expect(report.status, describeReport(report)).toBe("ok");
    const out = report.stdout.toString();
    expect(out).toMatch(/^ruid=1000 euid=1000 suid=1000$/m);
    expect(statusField(out, "CapEff")).toBe("0000000000000000");
    expect(statusField(out, "CapPrm")).toBe("0000000000000000");
    expect(out).toMatch(/^setuid\(0\)=EPERM$/m);
  });

  it.each([["/usr/bin/passwd"], ["/usr/bin/su"]])(
    "the host's setuid-root %s runs as uid 1000 without capabilities",
    async (binary) => {
      const report = await run([fixture("setuid-exec"), binary]);
      expect(report.status, describeReport(report)).toBe("ok");
      const out = report.stdout.toString();
      expect(statusField(out, "Name"), out).toBe(binary.split("/").pop());
      expect(statusField(out, "Uid")?.split(/\s+/)).toEqual(["1000", "1000", "1000", "1000"]);
      expect(statusField(out, "CapEff")).toBe("0000000000000000");
    },
  );
});

describe("inherited state", () => {
  it("only fds 0, 1 and 2 are open and writes to fds 3..1023 all fail", async () => {
    const report = await run([fixture("fd-leak")]);
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("open: 0 1 2\nwritten to fds above 2: 0\n");
  });

  it("the environment is exactly the one given, in /proc/self/environ too", async () => {
    const env = { A: "1", B: "two words", EMPTY: "", PATH: "/usr/bin" };
    const report = await run([fixture("env-dump")], { env });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString().split("\n").filter(Boolean).sort()).toEqual(
      ["A=1", "B=two words", "EMPTY=", "PATH=/usr/bin"].sort(),
    );
    const environ = await run(["/usr/bin/cat", "/proc/self/environ"], { env });
    expect(environ.stdout.toString().split("\0").filter(Boolean).sort()).toEqual(
      ["A=1", "B=two words", "EMPTY=", "PATH=/usr/bin"].sort(),
    );
  });

  it("an empty environment stays empty (nothing of the worker's leaks in)", async () => {
    process.env.CELLBLOCK_TEST_SECRET = "must-not-leak";
    try {
      const report = await run([fixture("env-dump")], { env: {} });
      expect(report.status, describeReport(report)).toBe("ok");
      expect(report.stdout.toString()).toBe("");
    } finally {
      delete process.env.CELLBLOCK_TEST_SECRET;
    }
  });

  it("argv arrives exactly as given", async () => {
    const report = await run(["/usr/bin/printf", "[%s]", "a b", "", "--", "$HOME"]);
    expect(report.stdout.toString(), describeReport(report)).toBe("[a b][][--][$HOME]");
  });
});
