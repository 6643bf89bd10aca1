// An interactive test's verdict from both sides (worker/classify-interaction.ts).
import { describe, expect, it } from "vitest";
import type { SandboxReport } from "../../native/types.ts";
import { classifyChecker } from "../../worker/classify-checker.ts";
import { classifyInteraction } from "../../worker/classify-interaction.ts";
import { sandboxReport } from "../helpers/sandbox-report.ts";

const exited = (exitCode: number): Partial<SandboxReport> => ({
  status: exitCode === 0 ? "ok" : "runtime_error",
  exitCode,
});
const killed = (signal: string, stopReason: SandboxReport["stopReason"] = null): Partial<SandboxReport> => ({
  status: "runtime_error",
  exitCode: null,
  signal,
  stopReason,
});
const decide = (program: Partial<SandboxReport>, interactor: Partial<SandboxReport>) => {
  const report = sandboxReport(interactor);
  return classifyInteraction(sandboxReport(program), report, classifyChecker(report)).verdict;
};

describe("classify-interaction", () => {
  it("the program's own limit wins over what the interactor said after losing its peer", () => {
    expect(decide({ status: "time_limit", stopReason: "wall_time" }, exited(1))).toBe("time_limit");
    expect(decide({ status: "memory_limit", stopReason: "memory" }, exited(0))).toBe("memory_limit");
  });

  it("an interactor that crashed, failed or was stopped is a checker_error", () => {
    expect(decide(exited(0), killed("SIGSEGV"))).toBe("checker_error");
    expect(decide(exited(0), exited(3))).toBe("checker_error");
    expect(decide(exited(0), killed("SIGKILL", "cancelled"))).toBe("checker_error");
  });

  it("the interactor's wrong answer stands even when the program then died of SIGPIPE", () => {
    expect(decide(killed("SIGPIPE"), exited(1))).toBe("wrong_answer");
    expect(decide(exited(0), exited(2))).toBe("presentation_error");
  });

  it("after an accepting interactor, a crash is a runtime_error and being stopped by us is not", () => {
    expect(decide(killed("SIGSEGV"), exited(0))).toBe("runtime_error");
    expect(decide(exited(1), exited(0))).toBe("runtime_error");
    expect(decide(killed("SIGKILL", "cancelled"), exited(0))).toBe("accepted");
    expect(decide(exited(0), exited(0))).toBe("accepted");
  });

  it("a sandbox that failed to set up on either side is internal_error", () => {
    const setupError = { step: "clone", errno: 1, code: "EPERM", message: "clone: EPERM" };
    expect(decide({ status: "setup_error", setupError }, exited(1))).toBe("internal_error");
    expect(decide(exited(0), { status: "setup_error", setupError })).toBe("internal_error");
  });
});
