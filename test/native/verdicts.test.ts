// The verdict comes only from supervisor data (wait status, cgroup counters, timers), never from
// what the program prints or how it chooses to die; sandbox failures are setup_error reports, not
// exceptions.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, MiB, makeBindDir, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("verdicts", () => {
  it("a program that exits 0 is ok with exit code 0", async () => {
    const report = await run(["/bin/true"]);
    expect(report).toMatchObject({
      status: "ok",
      exitCode: 0,
      signal: null,
      stopReason: null,
      setupError: null,
    });
    expect(report.oomKilled).toBe(false);
    expect(report.pidsLimitHit).toBe(false);
  });

  it("a program that exits 3 is a runtime_error with exit code 3", async () => {
    const report = await run(["/bin/bash", "-c", "exit 3"]);
    expect(report).toMatchObject({ status: "runtime_error", exitCode: 3, signal: null, stopReason: null });
  });

  it("printing a fake verdict changes nothing: the run is ok", async () => {
    const report = await run([fixture("spoof-verdict-json")]);
    expect(report, describeReport(report)).toMatchObject({
      status: "ok",
      exitCode: 0,
      signal: null,
      stopReason: null,
      oomKilled: false,
    });
    expect(report.stdout.toString()).toContain('"status":"memory_limit"');
  });

  it("exit(137) is a runtime_error with exit code 137, not memory_limit", async () => {
    const report = await run([fixture("spoof-exit-137")]);
    expect(report, describeReport(report)).toMatchObject({
      status: "runtime_error",
      exitCode: 137,
      signal: null,
      stopReason: null,
      oomKilled: false,
    });
  });

  it("raise(SIGXCPU) is a runtime_error with signal SIGXCPU, not time_limit", async () => {
    const report = await run([fixture("spoof-sigxcpu")]);
    expect(report, describeReport(report)).toMatchObject({
      status: "runtime_error",
      exitCode: null,
      signal: "SIGXCPU",
      stopReason: null,
    });
  });

  // Issue 9 item 8: SIGXFSZ means output_limit, and the kernel sends it like kill(getpid()), so
  // no job may send it to anyone by any route whose signal number seccomp can read.
  it.each(["raise", "kill", "sigqueue", "pidfd", "clone-exit-signal", "f-setsig"])(
    "a program sending itself SIGXFSZ (%s) cannot fake output_limit",
    async (route) => {
      const report = await run([fixture("spoof-sigxfsz"), route]);
      expect(report, describeReport(report)).toMatchObject({ status: "ok", signal: null, stopReason: null });
      expect(report.stdout.toString()).toBe("refused\n");
    },
  );

  // The rest of item 8: a POSIX timer or mq_notify names its signal in memory seccomp cannot read,
  // so SIGXFSZ reaches the program. Before, that was output_limit/file_size; now a SIGXFSZ counts
  // only when a file the job could write reached RLIMIT_FSIZE (native/src/fsize-evidence.c).
  it.each(["timer", "mq-notify"])(
    "a SIGXFSZ the program arranged with %s, with no file at the cap, is its runtime_error",
    async (route) => {
      const report = await run([fixture("spoof-sigxfsz"), route]);
      expect(report, describeReport(report)).toMatchObject({
        status: "runtime_error",
        exitCode: null,
        signal: "SIGXFSZ",
        stopReason: null,
      });
    },
  );

  it("a file that reached the cap in a writable bind (the work dir) is evidence: output_limit", async () => {
    const box = makeBindDir();
    const report = await run([fixture("tmpfs-fill"), "/box"], {
      binds: [{ source: box, target: "/box", writable: true }],
      limits: { fileSizeBytes: 1 * MiB },
    });
    expect(report, describeReport(report)).toMatchObject({
      status: "output_limit",
      signal: "SIGXFSZ",
      stopReason: "file_size",
    });
  });

  it("a file at the cap in /dev/shm is evidence too", async () => {
    const report = await run([fixture("tmpfs-fill"), "/dev/shm"], { limits: { fileSizeBytes: 1 * MiB } });
    expect(report, describeReport(report)).toMatchObject({ status: "output_limit", stopReason: "file_size" });
  });

  it("raise(SIGKILL) is a runtime_error with signal SIGKILL, not memory_limit", async () => {
    const report = await run([fixture("spoof-sigkill")]);
    expect(report, describeReport(report)).toMatchObject({
      status: "runtime_error",
      exitCode: null,
      signal: "SIGKILL",
      stopReason: null,
      oomKilled: false,
    });
  });

  it("a segfault is a runtime_error with signal SIGSEGV", async () => {
    const report = await run([fixture("segfault")]);
    expect(report, describeReport(report)).toMatchObject({
      status: "runtime_error",
      exitCode: null,
      signal: "SIGSEGV",
    });
  });
});

describe("setup errors", () => {
  it("a bind whose source does not exist is a setup_error naming the step, not a throw", async () => {
    const missing = path.join(os.tmpdir(), "cellblock-test-missing-source");
    fs.rmSync(missing, { recursive: true, force: true });
    const report = await run(["/bin/true"], {
      binds: [{ source: missing, target: "/box", writable: false }],
    });
    expect(report.status, describeReport(report)).toBe("setup_error");
    expect(report.setupError).not.toBeNull();
    expect(report.setupError?.code).toBe("ENOENT");
    expect(report.setupError?.step).toBeTruthy();
    expect(`${report.setupError?.step} ${report.setupError?.message}`).toMatch(
      /\/box|cellblock-test-missing-source/,
    );
    expect(report.exitCode).toBeNull();
  });

  it("a program path that does not exist resolves with a report that is not ok", async () => {
    const report = await run(["/usr/bin/cellblock-no-such-program"]);
    expect(["setup_error", "runtime_error"], describeReport(report)).toContain(report.status);
    if (report.status === "setup_error") expect(report.setupError?.code).toBe("ENOENT");
  });

  it("a program that cannot be exec'd is a setup_error whose step names the program, not cellblock-init", async () => {
    // Regression: the step used to read "execve cellblock-init", the first entry of init's argv.
    const report = await run([fixture("cellblock-no-such-program")]);
    expect(report.status, describeReport(report)).toBe("setup_error");
    expect(report.setupError?.step).toBe(`execve ${fixture("cellblock-no-such-program")}`);
    expect(report.setupError?.code).toBe("ENOENT");
  });

  it("a working directory that does not exist is a setup_error", async () => {
    const report = await run(["/bin/true"], { cwd: "/no/such/dir" });
    expect(report.status, describeReport(report)).toBe("setup_error");
    expect(report.setupError?.code).toBe("ENOENT");
  });
});
