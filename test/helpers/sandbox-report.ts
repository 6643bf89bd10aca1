import type { SandboxReport } from "../../native/types.ts";

/** A sandbox report of a clean run printing "3\n", with `overrides` (for classifier unit tests). */
export const sandboxReport = (overrides: Partial<SandboxReport>): SandboxReport => ({
  status: "ok",
  exitCode: 0,
  signal: null,
  stopReason: null,
  stdout: Buffer.from("3\n"),
  stderr: Buffer.alloc(0),
  stdoutTruncated: false,
  stderrTruncated: false,
  cpuTimeMs: 1,
  cpuUserMs: 1,
  cpuSystemMs: 0,
  wallTimeMs: 2,
  peakMemoryBytes: 1024,
  oomKilled: false,
  pidsLimitHit: false,
  setupError: null,
  ...overrides,
});
