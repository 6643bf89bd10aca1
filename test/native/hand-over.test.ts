// The hand-over (native/src/hand-over.c): a container made ahead is mounted before its job exists,
// without the job's caller binds; at the job's go the supervisor mounts each bind's source on its
// mount point inside the container. So one made ahead serves any job of the same shape (the same
// targets, flags and kinds), each with its own work dir — the worker's per-job /box included.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configureSandbox, runSandbox, type SandboxReport } from "../../native/index.ts";
import {
  describe as describeReport,
  fixture,
  MiB,
  makeBindDir,
  makeSpec,
  ROOTLESS,
  type SpecOverrides,
  slotHostId,
} from "./_fixtures.ts";
import { prewarmForFile } from "./_prewarm.ts";

const SLOT = 44; // away from other files' slots (made-ahead.test.ts has 41 and 42)

const sh = (script: string) => ["/bin/sh", "-c", script];

/** A job dir of its own, holding a file "name" with the given text. */
function jobDir(name: string): string {
  const dir = makeBindDir();
  writeFileSync(path.join(dir, "name"), `${name}\n`);
  chownSync(dir, slotHostId(SLOT), slotHostId(SLOT)); // the job's host uid on this slot
  return dir;
}

function boxSpec(argv: string[], box: string, writable: boolean, overrides: SpecOverrides = {}) {
  return makeSpec(argv, {
    slot: SLOT,
    cwd: "/box",
    binds: [{ source: box, target: "/box", writable }],
    ...overrides,
  });
}

/** Runs argv with its own dir at /box; the slot's last two runs had this shape, so it is made ahead. */
async function ahead(argv: string[], box: string, writable = true, overrides: SpecOverrides = {}) {
  const report = await runSandbox(boxSpec(argv, box, writable, overrides));
  expect(report.madeAhead, describeReport(report)).toBe(true);
  return report;
}

/** Two runs of this shape, each with its own dir: the slot then makes its next container ahead. */
async function prime(writable = true, overrides: SpecOverrides = {}): Promise<void> {
  for (const name of ["prime-1", "prime-2"])
    await runSandbox(boxSpec(["/bin/true"], jobDir(name), writable, overrides));
}

/** The host's mount table lines naming dir: a handed-over mount lives in its container only. */
function hostMountsOf(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((line) => line.includes(dir));
}

// Hand-over needs root on the host (open_tree and setns): rootless runs keep the exact-match path.
describe.skipIf(ROOTLESS)("binds handed over to containers made ahead", () => {
  prewarmForFile(SLOT, () => prime());

  it("jobs with their own work dirs run made ahead, each seeing and writing only its own dir", async () => {
    const dirs = ["one", "two", "three"].map((name) => ({ name, dir: jobDir(name) }));
    for (const { name, dir } of dirs) {
      const report = await ahead(
        sh("cat name; ls; echo wrote-$(cat name) > result; grep -c ' /box ' /proc/self/mountinfo"),
        dir,
      );
      expect(report.status, describeReport(report)).toBe("ok");
      // Its own file, nothing of another job's dir, and exactly one mount at /box.
      expect(report.stdout.toString()).toBe(`${name}\nname\n1\n`);
      expect(readFileSync(path.join(dir, "result"), "utf8")).toBe(`wrote-${name}\n`);
      expect(statSync(path.join(dir, "result")).uid).toBe(slotHostId(SLOT));
      expect(hostMountsOf(dir), "no mount of the dir in the host's namespace").toEqual([]);
    }
    // A dir's files written after the container was made are there: it only meets its dir at go.
    const late = jobDir("early");
    writeFileSync(path.join(late, "name"), "late\n");
    expect((await ahead(["/bin/cat", "name"], late)).stdout.toString()).toBe("late\n");
  });

  it("a read-only handed bind is read-only, nosuid and nodev, in its host submounts too", async () => {
    await prime(false);
    const box = jobDir("ro");
    const sub = path.join(box, "sub");
    mkdirSync(sub);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0777,suid,dev", "tmpfs", sub]);
    try {
      const report = await ahead(
        [
          "/bin/bash",
          "-c",
          "echo x > new; echo evil > sub/new; grep -E ' /box(/sub)? ' /proc/self/mountinfo",
        ],
        box,
        false,
      );
      expect(report.stderr.toString(), describeReport(report)).toMatch(/Read-only file system/);
      expect(existsSync(path.join(box, "new"))).toBe(false);
      expect(existsSync(path.join(sub, "new"))).toBe(false);
      const lines = report.stdout.toString().trim().split("\n");
      expect(lines, "/box and its submount").toHaveLength(2);
      for (const line of lines)
        expect(line.split(" ")[5]?.split(",")).toEqual(expect.arrayContaining(["ro", "nosuid", "nodev"]));
    } finally {
      execFileSync("umount", [sub]);
    }
  });

  it("a file past fileSizeBytes in the handed work dir is output_limit evidence (opened after the hand-over)", async () => {
    const limits = { fileSizeBytes: 1 * MiB };
    await prime(true, { limits });
    const report = await ahead([fixture("tmpfs-fill"), "/box"], jobDir("big"), true, { limits });
    expect(report.status, describeReport(report)).toBe("output_limit");
    expect(report.stopReason).toBe("file_size");
  });

  it("a bind of another shape (a file where a dir was, another target) gets a container made for it", async () => {
    await prime();
    const file = path.join(makeBindDir(), "input.txt");
    writeFileSync(file, "a file\n");
    const asFile = await runSandbox(
      makeSpec(["/bin/cat", "/box"], {
        slot: SLOT,
        binds: [{ source: file, target: "/box", writable: true }],
      }),
    );
    expect(asFile.madeAhead).toBeUndefined();
    expect(asFile.stdout.toString(), describeReport(asFile)).toBe("a file\n");
    const elsewhere = await runSandbox(
      makeSpec(["/bin/cat", "/work/name"], {
        slot: SLOT,
        binds: [{ source: jobDir("elsewhere"), target: "/work", writable: true }],
      }),
    );
    expect(elsewhere.madeAhead).toBeUndefined();
    expect(elsewhere.stdout.toString(), describeReport(elsewhere)).toBe("elsewhere\n");
  });

  it("nested bind targets are not handed over: such a request is made ahead only when it repeats exactly", async () => {
    const outer = jobDir("outer");
    const inner = jobDir("inner");
    mkdirSync(path.join(outer, "in"));
    const spec = () =>
      makeSpec(["/bin/cat", "/box/name", "/box/in/name"], {
        slot: SLOT,
        binds: [
          { source: outer, target: "/box", writable: false },
          { source: inner, target: "/box/in", writable: false },
        ],
      });
    await runSandbox(spec());
    await runSandbox(spec());
    const third = await runSandbox(spec());
    expect(third.madeAhead, describeReport(third)).toBe(true);
    expect(third.stdout.toString()).toBe("outer\ninner\n");
    // Another outer dir: not the same request, so not that container.
    const other = jobDir("other");
    mkdirSync(path.join(other, "in"));
    const differs = await runSandbox(
      makeSpec(["/bin/cat", "/box/name", "/box/in/name"], {
        slot: SLOT,
        binds: [
          { source: other, target: "/box", writable: false },
          { source: inner, target: "/box/in", writable: false },
        ],
      }),
    );
    expect(differs.madeAhead).toBeUndefined();
    expect(differs.stdout.toString(), describeReport(differs)).toBe("other\ninner\n");
  });

  it("with handOver off, per-job dirs are never made ahead (the request must repeat source for source)", async () => {
    configureSandbox({ prewarm: true, handOver: false });
    try {
      await prime();
      const report: SandboxReport = await runSandbox(boxSpec(["/bin/cat", "name"], jobDir("off"), true));
      expect(report.stdout.toString(), describeReport(report)).toBe("off\n");
      expect(report.madeAhead).toBeUndefined();
    } finally {
      configureSandbox({ prewarm: true });
    }
  });
});
