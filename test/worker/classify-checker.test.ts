// A checker's run → the test's verdict (worker/classify-checker.ts), after testlib's exit codes.
import { describe, expect, it } from "vitest";
import { classifyChecker, pointsOf } from "../../worker/classify-checker.ts";
import { sandboxReport } from "../helpers/sandbox-report.ts";

const report = sandboxReport;

const exited = (exitCode: number, stderr = "") =>
  classifyChecker(
    report({ status: exitCode === 0 ? "ok" : "runtime_error", exitCode, stderr: Buffer.from(stderr) }),
  );

describe("classify-checker", () => {
  it("maps testlib's exit codes: 0, 1, 2, 3, 4, 8", () => {
    expect(exited(0).verdict).toBe("accepted");
    expect(exited(1).verdict).toBe("wrong_answer");
    expect(exited(2).verdict).toBe("presentation_error");
    expect(exited(3).verdict).toBe("checker_error");
    expect(exited(4).verdict).toBe("presentation_error");
    expect(exited(8).verdict).toBe("wrong_answer");
    expect(exited(42).verdict).toBe("checker_error");
  });

  it("exit 7 takes the score from the message; a missing or out-of-range score is the checker's fault", () => {
    expect(exited(7, "points 0.25 a quarter")).toMatchObject({ verdict: "partial", score: 0.25 });
    expect(exited(7, "0.75")).toMatchObject({ verdict: "partial", score: 0.75 });
    expect(exited(7, "points 1")).toMatchObject({ verdict: "accepted", score: 1 });
    expect(exited(7, "points 1.5").verdict).toBe("checker_error");
    expect(exited(7, "half").verdict).toBe("checker_error");
    expect(pointsOf("points -0.1")).toBeNull();
  });

  it("a checker stopped by a signal or a limit is a checker_error; its sandbox failing is internal_error", () => {
    expect(
      classifyChecker(report({ status: "runtime_error", exitCode: null, signal: "SIGSEGV" })).verdict,
    ).toBe("checker_error");
    expect(classifyChecker(report({ status: "time_limit", exitCode: null, signal: "SIGKILL" })).verdict).toBe(
      "checker_error",
    );
    const setup = classifyChecker(
      report({
        status: "setup_error",
        setupError: { step: "clone", errno: 1, code: "EPERM", message: "clone: EPERM" },
      }),
    );
    expect(setup).toMatchObject({ verdict: "internal_error", setupError: "checker: clone: EPERM" });
  });

  it("the message comes from stderr, else stdout, cut at 4096 characters and flagged", () => {
    const quiet = classifyChecker(report({ stderr: Buffer.alloc(0), stdout: Buffer.from("from stdout") }));
    expect(quiet.run.message).toBe("from stdout");
    const long = exited(1, "y".repeat(5000));
    expect(long.run.message).toHaveLength(4096);
    expect(long.run.messageTruncated).toBe(true);
  });
});
