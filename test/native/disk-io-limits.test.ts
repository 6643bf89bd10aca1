// Issue 9 item 5: a step's disk reads are held to SANDBOX_IO_* (v1 blkio.throttle.*, v2 io.max)
// on the disks behind its root and binds. Before, one job read 1.6 GiB from disk in 2 s. The
// fixture reads with O_DIRECT, so every block is a disk read (the page cache cannot answer it).
// Only lower bounds on elapsed time are asserted for the limited runs: a loaded host may be slower,
// never faster than the limit.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diskOfPath } from "../../native/block-devices.ts";
import { toReport } from "../../native/run-sandbox.ts";
import type { BindSpec, IoLimits } from "../../native/types.ts";
import { describe as describeReport, fixture, MiB, makeBindDir, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

const UNLIMITED: IoLimits = { readBps: 0, writeBps: 0, readIops: 0, writeIops: 0 };

// The test data must lie on a disk: os.tmpdir() here, /var/tmp in the cgroup v2 VM (whose /tmp is
// tmpfs, which has no disk to throttle).
const diskDir = [os.tmpdir(), "/var/tmp"].find((dir) => fs.existsSync(dir) && diskOfPath(dir) !== null);

/** A file of `bytes` random bytes on disk (flushed, so O_DIRECT reads really reach the disk), bound at /data. */
function diskFile(bytes: number): BindSpec[] {
  const dir = makeBindDir(diskDir);
  const file = path.join(dir, "big");
  const fd = fs.openSync(file, "w", 0o644);
  try {
    for (let done = 0; done < bytes; done += MiB) fs.writeSync(fd, crypto.randomBytes(MiB));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return [{ source: dir, target: "/data", writable: false }];
}

async function directRead(io: IoLimits, blockBytes: number, count: number, bytes: number) {
  const binds = diskFile(bytes);
  const report = await run([fixture("direct-read"), "/data/big", String(blockBytes), String(count)], {
    binds,
    limits: { io, wallTimeMs: 30_000, cpuTimeMs: 10_000 },
  });
  expect(report.status, describeReport(report)).toBe("ok");
  const m = /^bytes=(\d+) ms=(\d+)$/.exec(report.stdout.toString().trim());
  expect(m, describeReport(report)).not.toBeNull();
  return { bytes: Number(m?.[1]), ms: Number(m?.[2]) };
}

describe.skipIf(diskDir === undefined)("disk I/O limits (needs TMPDIR or /var/tmp on a block device)", () => {
  it("a direct read of a host file is held to the read rate, and is not without a limit", async () => {
    const bytes = 12 * MiB;
    const rate = 4 * MiB;
    const limited = await directRead({ ...UNLIMITED, readBps: rate }, MiB, 12, bytes);
    expect(limited.bytes).toBe(bytes);
    // 3 s at 4 MiB/s; the throttle may let the first block through at once, so allow one block.
    expect(limited.ms).toBeGreaterThanOrEqual(((bytes - MiB) / rate) * 1000 * 0.9);
    const free = await directRead(UNLIMITED, MiB, 12, bytes);
    expect(free.bytes).toBe(bytes);
    expect(free.ms).toBeLessThan((bytes / rate) * 1000 * 0.5);
  });

  it("small direct reads are held to the read operations rate", async () => {
    const iops = 100;
    const count = 250;
    const limited = await directRead({ ...UNLIMITED, readIops: iops }, 4096, count, MiB);
    expect(limited.bytes).toBe(count * 4096);
    expect(limited.ms).toBeGreaterThanOrEqual(((count - 10) / iops) * 1000 * 0.9);
  });
});

describe("disk I/O limit failures", () => {
  it("a run whose I/O limits the kernel refuses is a setup_error naming the settings that turn them off", () => {
    const report = toReport({
      status: "setup_error",
      setupErrno: 22,
      setupStep: "",
      setupMessage: 'write io.max "259:0 rbps=1 wbps=max riops=max wiops=max" in cgroup /x: Invalid argument',
    });
    expect(report.setupError?.message).toMatch(
      /^write io\.max .*Invalid argument \(set SANDBOX_IO_READ_BPS,.* to 0/,
    );
  });
});
