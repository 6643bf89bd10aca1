// Two jobs running at the same time in different slots share nothing: no abstract unix sockets,
// no /dev/shm, /tmp or SysV IPC objects, no view of each other's processes, no locks on shared files.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  describe as describeReport,
  EMULATION_SLOWDOWN,
  fixture,
  makeBindDir,
  run,
  TEST_SLOT,
} from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("cross-job isolation", () => {
  it("a concurrent job sees none of another job's abstract sockets, shm, tmp files, processes or locks", async () => {
    const box = makeBindDir();
    const holder = run(["/usr/bin/python3", fixture("cross-job.py"), "hold", "/box"], {
      binds: [{ source: box, target: "/box", writable: true }],
      slot: TEST_SLOT,
      limits: { wallTimeMs: 20_000 * EMULATION_SLOWDOWN },
    });
    // A python start: under test:v2's emulated CPU in a loaded suite it took over 10 s.
    const deadline = Date.now() + 10_000 * EMULATION_SLOWDOWN;
    while (!fs.existsSync(path.join(box, "ready")) && Date.now() < deadline) await sleep(20);
    expect(fs.existsSync(path.join(box, "ready")), "the holding job never got ready").toBe(true);

    const looker = await run(["/usr/bin/python3", fixture("cross-job.py"), "look"], { slot: TEST_SLOT + 1 });
    expect(looker.status, describeReport(looker)).toBe("ok");
    const seen = JSON.parse(looker.stdout.toString()) as {
      connect: string;
      shm: string[];
      tmp: string[];
      pids: number[];
      flock: string;
      sysv_shm: string[];
    };
    // Soft assertions: each channel is reported on its own, one open channel does not hide another.
    expect.soft(seen.connect, "abstract unix socket").toMatch(/^(ECONNREFUSED|ENOENT)$/);
    expect.soft(seen.shm, "/dev/shm").toEqual([]);
    expect.soft(seen.tmp, "/tmp").toEqual([]);
    expect.soft(seen.sysv_shm, "SysV shared memory segments").toEqual([]);
    expect.soft(seen.pids.length, JSON.stringify(seen.pids)).toBeLessThanOrEqual(2);
    // A lock the other job holds on a shared read-only file would be a channel between jobs.
    // Regression: flock was allowed and the looker saw EAGAIN (FINDINGS.md #4).
    expect
      .soft(seen.flock, "flock on a shared read-only file is visible across jobs")
      .toMatch(/^(ok|EPERM|EACCES|ENOSYS|ENOLCK)$/);

    const held = await holder;
    expect(held.status, describeReport(held)).toBe("ok");
    expect(held.stdout.toString()).toBe("held\n");
  });

  it("24 concurrent runs over 4 slots all complete with their own output and leave nothing", async () => {
    const reports = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        run(["/usr/bin/python3", "-c", `print(${i})`], { slot: TEST_SLOT + (i % 4) }),
      ),
    );
    reports.forEach((report, i) => {
      expect(report.status, describeReport(report)).toBe("ok");
      expect(report.stdout.toString()).toBe(`${i}\n`);
    });
  });
});
