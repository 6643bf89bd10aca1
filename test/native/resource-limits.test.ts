// Resource exhaustion from inside one run: pids, tmpfs and shm sizes, inodes, output and file size
// (memory is in memory-limit.test.ts). Each run ends with the verdict the limit implies, and the
// leak checks prove nothing of it outlives the run.
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, MiB, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("pids limit", () => {
  it("a fork bomb stops at the pids limit and nothing outlives the run", async () => {
    const report = await run([fixture("fork-bomb")], {
      limits: { pids: 32, cpuTimeMs: 3_000, wallTimeMs: 3_000 },
    });
    expect(["time_limit", "runtime_error"], describeReport(report)).toContain(report.status);
    expect(report.pidsLimitHit, describeReport(report)).toBe(true);
    expect(report.wallTimeMs).toBeLessThan(3_000 + 2_000);
  });

  it("a thread bomb stops at the pids limit (threads are tasks)", async () => {
    const report = await run([fixture("thread-bomb")], { limits: { pids: 32 } });
    expect(report.status, describeReport(report)).toBe("ok");
    const match = report.stdout.toString().match(/^threads=(\d+) errno=(\w+)$/m);
    expect(match, describeReport(report)).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThan(32);
    expect(match?.[2]).toBe("EAGAIN");
    expect(report.pidsLimitHit).toBe(true);
  });

  it("a run that stays under the pids limit does not report a pids-limit hit", async () => {
    const report = await run([fixture("threads-fork-pipes")], { limits: { pids: 32 } });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.pidsLimitHit).toBe(false);
  });
});

describe("tmpfs and shared memory", () => {
  it("filling /tmp stops with ENOSPC at the tmpfs size", async () => {
    const report = await run([fixture("tmpfs-fill"), "/tmp"], { limits: { tmpfsBytes: 16 * MiB } });
    expect(report.status, describeReport(report)).toBe("ok");
    const match = report.stdout.toString().match(/^errno=ENOSPC after (\d+) MiB$/m);
    expect(match, describeReport(report)).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThanOrEqual(16);
  });

  it("filling /dev/shm stops with ENOSPC at the tmpfs size", async () => {
    const report = await run([fixture("shm-fill"), "posix"], { limits: { tmpfsBytes: 16 * MiB } });
    expect(report.status, describeReport(report)).toBe("ok");
    const match = report.stdout.toString().match(/^errno=ENOSPC after (\d+) MiB$/m);
    expect(match, describeReport(report)).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThanOrEqual(16);
  });

  it("an inode fill (many empty files in /tmp) is bounded by ENOSPC or the memory limit, not time", async () => {
    const report = await run([fixture("inode-fill"), "/tmp"], {
      limits: { memoryBytes: 128 * MiB, wallTimeMs: 30_000, cpuTimeMs: 30_000 },
    });
    if (report.status === "ok") {
      expect(report.stdout.toString(), describeReport(report)).toMatch(
        /^errno=(ENOSPC|EDQUOT|ENOMEM) after \d+ files$/m,
      );
    } else {
      expect(report.status, describeReport(report)).toBe("memory_limit");
    }
  });
});

describe("output and file size", () => {
  it("an output flood on stdout ends as output_limit with exactly outputBytes kept", async () => {
    const report = await run([fixture("output-flood")], { limits: { outputBytes: 65_536 } });
    expect(report.status, describeReport(report)).toBe("output_limit");
    expect(report.stopReason).toBe("output");
    expect(report.stdout.length).toBe(65_536);
    expect(report.stdoutTruncated).toBe(true);
    expect(report.stdout.toString().startsWith("y\ny\n")).toBe(true);
    expect(report.stderrTruncated).toBe(false);
  });

  it("an output flood on stderr ends as output_limit with exactly outputBytes kept", async () => {
    const report = await run([fixture("output-flood"), "stderr"], { limits: { outputBytes: 10_000 } });
    expect(report.status, describeReport(report)).toBe("output_limit");
    expect(report.stopReason).toBe("output");
    expect(report.stderr.length).toBe(10_000);
    expect(report.stderrTruncated).toBe(true);
    expect(report.stdoutTruncated).toBe(false);
  });

  it("output of exactly outputBytes is complete and not truncated", async () => {
    const report = await run(["/usr/bin/head", "-c", "4096", "/dev/zero"], { limits: { outputBytes: 4096 } });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.length).toBe(4096);
    expect(report.stdoutTruncated).toBe(false);
  });

  it("writing a file past fileSizeBytes ends as output_limit (SIGXFSZ), stop reason file_size", async () => {
    const report = await run([fixture("tmpfs-fill"), "/tmp"], { limits: { fileSizeBytes: 1 * MiB } });
    expect(report.status, describeReport(report)).toBe("output_limit");
    expect(report.stopReason).toBe("file_size");
    expect(report.signal).toBe("SIGXFSZ");
  });
});
