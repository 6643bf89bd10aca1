// The memory limit: RAM without swap, tmpfs, shm and memfd pages included. A run that reaches it
// ends as memory_limit with the OOM kill reported, and the supervisor survives it. These runs are
// in their own file because an OOM that takes the supervisor down ends the whole file
// (FINDINGS.md #1).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, MiB, makeBindDir, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("memory limit", () => {
  // Regression: the OOM killer chose the CLONE_VM init and took the supervisor with it (FINDINGS.md #1).
  it("a memory bomb ends as memory_limit with the OOM kill reported and peak near the limit", async () => {
    const limit = 64 * MiB;
    const report = await run([fixture("memhog"), "1024"], { limits: { memoryBytes: limit } });
    expect(report.status, describeReport(report)).toBe("memory_limit");
    expect(report.oomKilled).toBe(true);
    expect(report.exitCode).toBeNull();
    expect(report.stdout.toString()).not.toContain("touched");
    expect(report.peakMemoryBytes).toBeGreaterThan(0.8 * limit);
    expect(report.peakMemoryBytes).toBeLessThanOrEqual(1.05 * limit);
  });

  it("a program under the memory limit is not reported as OOM-killed", async () => {
    const report = await run([fixture("memhog"), "16"], { limits: { memoryBytes: 64 * MiB } });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.oomKilled).toBe(false);
    expect(report.stdout.toString()).toBe("touched 16 MiB\n");
  });
});

describe("memory through tmpfs and shared memory", () => {
  // tmpfs pages count against the memory limit: a tmpfs larger than it cannot hold more than it.
  it.each([
    ["/tmp file", [fixture("tmpfs-fill"), "/tmp"]],
    ["/dev/shm file", [fixture("shm-fill"), "posix"]],
    ["SysV shared memory", [fixture("shm-fill"), "sysv"]],
    ["memfd", [fixture("shm-fill"), "memfd"]],
  ])(
    "a %s larger than the memory limit ends in memory_limit or a failed write, within the limit",
    async (_name, argv) => {
      const limit = 64 * MiB;
      const report = await run(argv, { limits: { memoryBytes: limit, tmpfsBytes: 512 * MiB } });
      if (report.status === "ok") {
        expect(report.stdout.toString(), describeReport(report)).toMatch(
          /^errno=(ENOSPC|ENOMEM) after \d+ MiB$/m,
        );
      } else {
        expect(report.status, describeReport(report)).toBe("memory_limit");
        expect(report.oomKilled).toBe(true);
      }
      expect(report.peakMemoryBytes).toBeLessThanOrEqual(1.05 * limit);
    },
  );

  it("files written to a writable bind on a host tmpfs count against the memory limit", async () => {
    const box = makeBindDir("/dev/shm");
    const limit = 64 * MiB;
    const report = await run([fixture("tmpfs-fill"), "/box"], {
      binds: [{ source: box, target: "/box", writable: true }],
      limits: { memoryBytes: limit, fileSizeBytes: 1024 * MiB },
    });
    if (report.status === "ok") {
      expect(report.stdout.toString(), describeReport(report)).toMatch(
        /^errno=(ENOSPC|ENOMEM) after \d+ MiB$/m,
      );
    } else {
      expect(report.status, describeReport(report)).toBe("memory_limit");
    }
    expect(fs.statSync(path.join(box, "fill")).size).toBeLessThanOrEqual(limit);
  });
});
