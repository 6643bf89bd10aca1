// A call off the allowlist: the kernel holds the calling thread and tells our init (a seccomp user
// notification), which reports the call to the supervisor and kills the job. The report names the
// call, so a user can tell a sandbox decision from a crash (issue 10); the name comes from the
// kernel's notification, never from anything the program prints.
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("a call the sandbox does not allow", () => {
  it("ends the run as runtime_error with SIGSYS and names the call", async () => {
    const report = await run([fixture("errno-probe"), "unshare-user"]);
    expect(report.status, describeReport(report)).toBe("runtime_error");
    expect(report.signal).toBe("SIGSYS");
    expect(report.blockedSyscall).toBe("unshare");
    expect(report.stdout.toString()).toBe("");
  });

  it("names a number libseccomp cannot name as #nr", async () => {
    const report = await run([fixture("errno-probe"), "unknown-600"]);
    expect(report.blockedSyscall, describeReport(report)).toBe("#600");
  });

  it("kills the whole job when a child process makes the call, without waiting for the parent", async () => {
    const report = await run(["/bin/bash", "-c", `${fixture("errno-probe")} unshare-user; sleep 30`], {
      limits: { wallTimeMs: 20_000 },
    });
    expect(report.status, describeReport(report)).toBe("runtime_error");
    expect(report.stopReason).toBeNull();
    expect(report.signal).toBe("SIGSYS");
    expect(report.blockedSyscall).toBe("unshare");
  });

  it("keeps what the program wrote to its stdout before the call (its own unflushed buffer is its business)", async () => {
    const script = `import ctypes, os
os.write(1, b"written\\n"); print("buffered")
ctypes.CDLL(None).mount(b"none", b"/tmp", b"tmpfs", 0, None)`;
    const report = await run(["/usr/bin/python3", "-c", script]);
    expect(report.blockedSyscall, describeReport(report)).toBe("mount");
    expect(report.stdout.toString()).toBe("written\n");
  });

  it("is not claimed for a program that raises SIGSYS itself", async () => {
    const report = await run(["/bin/bash", "-c", "kill -SYS $$"]);
    expect(report.signal, describeReport(report)).toBe("SIGSYS");
    expect(report.blockedSyscall).toBeUndefined();
  });

  it("is not claimed for a foreign-architecture call, which the kernel kills directly", async () => {
    const report = await run([fixture("syscall-probe"), "int80"]);
    expect(report.signal, describeReport(report)).toBe("SIGSYS");
    expect(report.blockedSyscall).toBeUndefined();
  });

  it("names the first call when many threads make blocked calls at once", async () => {
    const script = [
      "import ctypes, threading",
      "def hit(): ctypes.CDLL(None).mount(b'none', b'/tmp', b'tmpfs', 0, None)",
      "ts = [threading.Thread(target=hit) for _ in range(8)]",
      "[t.start() for t in ts]; [t.join() for t in ts]",
    ].join("\n");
    const report = await run(["/usr/bin/python3", "-c", script]);
    expect(report.status, describeReport(report)).toBe("runtime_error");
    expect(report.blockedSyscall).toBe("mount");
  });
});
