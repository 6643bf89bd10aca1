// The worker's sandbox host configuration (worker/sandbox-host.ts) from SANDBOX_* settings: the
// disk I/O limits every step gets (issue 9 item 5) come from the operator, with documented defaults.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import { sandboxHostConfig } from "../../worker/sandbox-host.ts";

const MiB = 1024 * 1024;

describe("the worker's sandbox host configuration", () => {
  it("limits every step's disk I/O by default: 128 MiB/s and 4,000 reads/s, 64 MiB/s and 2,000 writes/s", () => {
    const host = sandboxHostConfig(loadConfig({}).sandbox, { prewarm: true });
    expect(host.io).toEqual({ readBps: 128 * MiB, writeBps: 64 * MiB, readIops: 4000, writeIops: 2000 });
  });

  it("takes the operator's SANDBOX_IO_* values, 0 meaning unlimited", () => {
    const config = loadConfig({
      SANDBOX_IO_READ_BPS: "0",
      SANDBOX_IO_WRITE_BPS: "1048576",
      SANDBOX_IO_READ_IOPS: "0",
      SANDBOX_IO_WRITE_IOPS: "10",
    });
    expect(sandboxHostConfig(config.sandbox, { prewarm: false }).io).toEqual({
      readBps: 0,
      writeBps: MiB,
      readIops: 0,
      writeIops: 10,
    });
  });

  it("refuses a negative or fractional rate naming the variable", () => {
    expect(() => loadConfig({ SANDBOX_IO_READ_BPS: "-1" })).toThrow(/SANDBOX_IO_READ_BPS/);
    expect(() => loadConfig({ SANDBOX_IO_WRITE_IOPS: "1.5" })).toThrow(/SANDBOX_IO_WRITE_IOPS/);
  });
});
