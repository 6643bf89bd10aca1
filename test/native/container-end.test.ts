// The end of a container is split in two: what the report needs (the payload reaped, its
// leftovers sent SIGKILL, the cgroup's figures read, the pipes drained) comes before the report;
// the namespace's end (PID 1's exit: reaping, unmounting) and the group's removal come after it,
// on the slot's thread before its next run. Nothing of a job may run on once its report is out,
// and nothing may be left behind (the leak checks after each test).
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { describe as describeReport, makeBindDir, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("the container's end after the report", () => {
  it("five children left writing behind are stopped by the time the report arrives, and the output is whole", async () => {
    const box = makeBindDir();
    const writers = "for i in $(seq 5); do (while :; do echo x >> /box/beacon; sleep 0.02; done) & done";
    const report = await run(
      [
        "/bin/sh",
        "-c",
        `${writers}; until [ -s /box/beacon ]; do sleep 0.01; done; head -c 200000 /dev/zero | tr '\\0' y; echo`,
      ],
      {
        binds: [{ source: box, target: "/box", writable: true }],
        limits: { cpuTimeMs: 30_000, wallTimeMs: 30_000, pids: 64 }, // slack for the v2 VM's emulation
      },
    );
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe(`${"y".repeat(200_000)}\n`);
    const beacon = path.join(box, "beacon");
    expect(fs.existsSync(beacon), "the writers never ran, so the test proves nothing").toBe(true);
    const sizeAtReport = fs.statSync(beacon).size;
    await sleep(300);
    expect(fs.statSync(beacon).size, "a leftover process wrote after the report").toBe(sizeAtReport);
  });

  it("runs back to back on one slot each get a fresh container while the last one is still being torn down", async () => {
    for (let i = 0; i < 10; i++) {
      const report = await run(["/bin/sh", "-c", "sleep 5 & echo $$ > /tmp/pid; cat /tmp/pid; ls /tmp"]);
      expect(report.status, describeReport(report)).toBe("ok");
      expect(report.stdout.toString()).toMatch(/^\d+\npid\n$/);
    }
  });
});
