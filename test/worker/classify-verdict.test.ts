import { describe, expect, it } from "vitest";
import type { Step } from "../../contract/job-result.ts";
import { classifyCompile, classifyJob, classifyRun } from "../../worker/classify-verdict.ts";
import { sandboxReport } from "../helpers/sandbox-report.ts";

const report = sandboxReport;

const step = (verdict: Step["verdict"]) => ({ verdict }) as Step;

describe("classify-verdict", () => {
  it("a clean exit is ok without a test and accepted or wrong_answer with one", () => {
    expect(classifyRun(report({}), undefined, "trim")).toBe("ok");
    expect(classifyRun(report({}), "3", "trim")).toBe("accepted");
    expect(classifyRun(report({}), "4", "trim")).toBe("wrong_answer");
  });

  it("limits and crashes win over the output, even when the output matches", () => {
    expect(classifyRun(report({ status: "time_limit" }), "3\n", "trim")).toBe("time_limit");
    expect(classifyRun(report({ status: "memory_limit" }), "3\n", "trim")).toBe("memory_limit");
    expect(classifyRun(report({ status: "output_limit" }), "3\n", "trim")).toBe("output_limit");
    expect(classifyRun(report({ status: "runtime_error", exitCode: 1 }), "3\n", "trim")).toBe(
      "runtime_error",
    );
  });

  it("a sandbox setup failure is an internal_error, never the program's fault", () => {
    expect(classifyRun(report({ status: "setup_error" }), undefined, "trim")).toBe("internal_error");
    expect(classifyCompile(report({ status: "setup_error" }))).toBe("internal_error");
  });

  it("a failed exec of a program in the work dir is the job's runtime_error (issue 9 item 7), other setup failures stay internal", () => {
    const setupError = (step: string) => ({ step, errno: 13, code: "EACCES", message: `${step}: EACCES` });
    const ownExec = report({ status: "setup_error", setupError: setupError("execve /box/main") });
    expect(classifyRun(ownExec, undefined, "trim")).toBe("runtime_error");
    const imageExec = report({ status: "setup_error", setupError: setupError("execve /usr/bin/python3") });
    expect(classifyRun(imageExec, undefined, "trim")).toBe("internal_error");
    const chdir = report({ status: "setup_error", setupError: setupError("chdir to the working directory") });
    expect(classifyRun(chdir, undefined, "trim")).toBe("internal_error");
  });

  it("any compiler failure, including its time limit, is a compile_error", () => {
    expect(classifyCompile(report({ status: "runtime_error", exitCode: 1 }))).toBe("compile_error");
    expect(classifyCompile(report({ status: "time_limit" }))).toBe("compile_error");
    expect(classifyCompile(report({}))).toBe("ok");
  });

  it("the job's verdict is the first non-passing step's, else ok or accepted", () => {
    expect(classifyJob(null, [step("ok")], false)).toBe("ok");
    expect(classifyJob(step("ok"), [step("accepted"), step("accepted")], true)).toBe("accepted");
    expect(classifyJob(null, [step("accepted"), step("time_limit"), step("wrong_answer")], true)).toBe(
      "time_limit",
    );
    expect(classifyJob(step("compile_error"), [], true)).toBe("compile_error");
  });
});
