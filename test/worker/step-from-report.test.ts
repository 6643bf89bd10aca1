import { describe, expect, it } from "vitest";
import { StepSchema } from "../../contract/job-result.ts";
import { stepFromReport } from "../../worker/step-from-report.ts";
import { sandboxReport } from "../helpers/sandbox-report.ts";

const killed = sandboxReport({
  status: "runtime_error",
  exitCode: null,
  signal: "SIGSYS",
  stdout: Buffer.from("partial\n"),
  blockedSyscall: "unshare",
});

describe("stepFromReport", () => {
  it("names the call the sandbox killed the program for, in a field and in the step's message", () => {
    const step = stepFromReport(killed, "runtime_error");
    expect(step.blockedSyscall).toBe("unshare");
    expect(step.error).toBe("killed by the sandbox: syscall `unshare` is not allowed");
    expect(step.stdout).toBe("partial\n");
    expect(StepSchema.parse(step)).toEqual(step);
  });

  it("says nothing of the sandbox for a program that died of SIGSYS by itself", () => {
    const { blockedSyscall: _, ...selfRaised } = killed;
    const step = stepFromReport(selfRaised, "runtime_error");
    expect(step.blockedSyscall).toBeUndefined();
    expect(step.error).toBeUndefined();
    expect(step.signal).toBe("SIGSYS");
  });
});
