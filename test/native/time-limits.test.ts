// CPU time, wall time, programs that resist being stopped, daemons, and cancellation. Bounds on
// timing are generous ("killed within limit + 2 s") and only where the limit is the point.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runSandbox, type SandboxReport } from "../../native/index.ts";
import { describe as describeReport, fixture, makeBindDir, makeSpec, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

const GRACE_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("CPU time", () => {
  it("a CPU burn on one thread ends as time_limit (cpu_time) once it has used the limit", async () => {
    const report = await run([fixture("cpu-burn"), "1"], {
      limits: { cpuTimeMs: 1_000, wallTimeMs: 20_000 },
    });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("cpu_time");
    expect(report.cpuTimeMs).toBeGreaterThanOrEqual(1_000);
    expect(report.cpuTimeMs).toBeLessThan(1_000 + GRACE_MS);
    expect(report.signal).toBe("SIGKILL");
  });

  it("a CPU burn on 4 threads ends as time_limit (cpu_time) with every thread's time counted", async () => {
    const report = await run([fixture("cpu-burn"), "4"], {
      limits: { cpuTimeMs: 1_000, wallTimeMs: 20_000 },
    });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("cpu_time");
    expect(report.cpuTimeMs).toBeGreaterThanOrEqual(1_000);
    expect(report.cpuTimeMs).toBeLessThan(1_000 + 2 * GRACE_MS);
    expect(report.wallTimeMs).toBeLessThan(1_000 + GRACE_MS);
  });

  it("user plus system CPU time adds up to the reported CPU time", async () => {
    const report = await run([fixture("cpu-burn"), "2", "300"]);
    expect(report.status, describeReport(report)).toBe("ok");
    expect(Math.abs(report.cpuUserMs + report.cpuSystemMs - report.cpuTimeMs)).toBeLessThanOrEqual(50);
  });
});

describe("CPU quota", () => {
  it("a 50 % CPU quota holds a 2-thread burn to about half a CPU of wall time", async () => {
    const report = await run([fixture("cpu-burn"), "2"], {
      limits: { cpuQuotaPercent: 50, wallTimeMs: 2_000, cpuTimeMs: 20_000 },
    });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
    // Unthrottled, 2 threads would use ~2x the wall time; the quota allows 0.5x (plus one period).
    expect(report.cpuTimeMs).toBeLessThan(0.5 * report.wallTimeMs * 1.3 + 100);
  });
});

describe("wall time", () => {
  it("a program that sleeps forever ends as time_limit (wall_time) within limit + 2 s", async () => {
    const started = Date.now();
    const report = await run([fixture("sleep-forever")], { limits: { wallTimeMs: 1_000 } });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
    expect(report.wallTimeMs).toBeGreaterThanOrEqual(1_000);
    expect(report.wallTimeMs).toBeLessThan(1_000 + GRACE_MS);
    expect(Date.now() - started).toBeLessThan(1_000 + GRACE_MS + 1_000);
    expect(report.cpuTimeMs).toBeLessThan(500);
  });

  it("the wall limit holds while 10 MiB of stdin sit unread", async () => {
    const report = await run([fixture("sleep-forever")], {
      stdin: Buffer.alloc(10 * 1024 * 1024, 0x61),
      limits: { wallTimeMs: 1_000 },
    });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
    expect(report.wallTimeMs).toBeLessThan(1_000 + GRACE_MS);
  });

  it("a program blocked reading stdin sees end of input instead of hanging", async () => {
    const report = await run(["/usr/bin/cat"], {
      stdin: Buffer.from("hello\n"),
      limits: { wallTimeMs: 5_000 },
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("hello\n");
  });

  it("a program that ignores SIGTERM and friends is still stopped at the wall limit", async () => {
    const report = await run([fixture("ignore-sigterm"), "sleep"], { limits: { wallTimeMs: 1_000 } });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
    expect(report.stdout.toString()).toBe("ignoring\n");
    expect(report.wallTimeMs).toBeLessThan(1_000 + GRACE_MS);
  });

  it("a program that ignores SIGXCPU and SIGTERM is still stopped at the CPU limit", async () => {
    const report = await run([fixture("ignore-sigterm"), "burn"], {
      limits: { cpuTimeMs: 1_000, wallTimeMs: 20_000 },
    });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("cpu_time");
    expect(report.cpuTimeMs).toBeLessThan(1_000 + GRACE_MS);
  });

  it("a program that stops itself with SIGSTOP is still killed at the wall limit", async () => {
    const report = await run([fixture("stop-self")], { limits: { wallTimeMs: 1_000 } });
    expect(report.status, describeReport(report)).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
    expect(report.wallTimeMs).toBeLessThan(1_000 + GRACE_MS);
  });
});

describe("daemons", () => {
  it("a double-fork setsid daemon is killed when the job ends and never writes again", async () => {
    const box = makeBindDir();
    const report = await run([fixture("daemon"), "/box/beacon"], {
      binds: [{ source: box, target: "/box", writable: true }],
      limits: { wallTimeMs: 10_000 },
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.exitCode).toBe(0);
    expect(report.stdout.toString()).toBe("parent done\n");
    const beacon = path.join(box, "beacon");
    expect(fs.existsSync(beacon), "the daemon never ran, so the test proves nothing").toBe(true);
    const sizeAtEnd = fs.statSync(beacon).size;
    await sleep(500);
    expect(fs.statSync(beacon).size, "the daemon kept writing after the run ended").toBe(sizeAtEnd);
  });

  it("a daemon that keeps stdout open does not hold the run open until the wall limit", async () => {
    const box = makeBindDir();
    const report = await run([fixture("daemon"), "/box/beacon", "keep-stdout"], {
      binds: [{ source: box, target: "/box", writable: true }],
      limits: { wallTimeMs: 10_000 },
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.exitCode).toBe(0);
    expect(report.stdout.toString()).toBe("parent done\n");
    const beacon = path.join(box, "beacon");
    const sizeAtEnd = fs.statSync(beacon).size;
    await sleep(500);
    expect(fs.statSync(beacon).size, "the daemon kept writing after the run ended").toBe(sizeAtEnd);
  });
});

describe("cancellation", () => {
  it("aborting the signal stops a running program and resolves with stop reason cancelled", async () => {
    const controller = new AbortController();
    const pending = runSandbox(makeSpec([fixture("sleep-forever")], { limits: { wallTimeMs: 30_000 } }), {
      signal: controller.signal,
    });
    await sleep(300);
    const started = Date.now();
    controller.abort();
    const report = await pending;
    expect(report.stopReason, describeReport(report)).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(GRACE_MS);
  });

  it("a run whose signal is already aborted does not leave anything behind", async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await runSandbox(makeSpec([fixture("sleep-forever")]), {
      signal: controller.signal,
    }).then(
      (report: SandboxReport) => report.stopReason,
      (error: unknown) => (error instanceof Error ? error.name : String(error)),
    );
    expect(["cancelled", "AbortError"]).toContain(outcome);
  });
});
