import { describe, expect, it } from "vitest";
import { splitArguments } from "../../../api/judge0/command-line.ts";
import { decodeJudge0Base64, encodeJudge0Base64 } from "../../../api/judge0/judge0-base64.ts";
import {
  fullSubmission,
  judge0OutputsMatch,
  parseFields,
  pickFields,
} from "../../../api/judge0/submission-view.ts";
import type { JobView, Step } from "../../../contract/job-result.ts";
import type { SubmissionRecord } from "../../../contract/judge0.ts";

// The pure parts of the Judge0 layer: the status each of our outcomes becomes, Judge0's base64,
// its output comparison, `fields`, and command-line splitting. The service tests run real jobs;
// these pin every branch, including outcomes too slow or rare to provoke there.

const record: SubmissionRecord = {
  token: "6a2f41a3-5c8b-4b8e-9f5e-4e9c6c5b1a00",
  keyId: "anonymous",
  language_id: 71,
  source_code: "print(1)",
  stdin: null,
  expected_output: null,
  compiler_options: null,
  command_line_arguments: null,
  redirect_stderr_to_stdout: false,
  number_of_runs: 1,
  enable_network: false,
  callback_url: null,
  additional_files: null,
  limits: {
    cpu_time_limit: 5,
    cpu_extra_time: 0,
    wall_time_limit: 10,
    memory_limit: 262144,
    stack_limit: 64000,
    max_processes_and_or_threads: 64,
    enable_per_process_and_thread_time_limit: false,
    enable_per_process_and_thread_memory_limit: false,
    max_file_size: 1024,
  },
  created_at: "2026-01-02T03:04:05.678Z",
};

const step = (over: Partial<Step>): Step => ({
  verdict: "ok",
  exitCode: 0,
  signal: null,
  stopReason: null,
  stdout: "",
  stderr: "",
  stdoutTruncated: false,
  stderrTruncated: false,
  usage: { cpuTimeMs: 12, wallTimeMs: 30, peakMemoryBytes: 10 * 1024 * 1024 },
  ...over,
});

const completed = (runs: Step[], compile: Step | null = null): JobView => ({
  id: record.token,
  status: "completed",
  result: { id: record.token, status: "completed", verdict: "ok", language: "python", compile, runs },
});

const statusOf = (view: JobView | null, over: Partial<SubmissionRecord> = {}) =>
  fullSubmission({ ...record, ...over }, view, null, "Python 3 (3.11.2)");

describe("Judge0 status mapping", () => {
  it("queued, running, cancelled, failed and gone jobs", () => {
    expect(statusOf({ id: record.token, status: "queued" }).status).toEqual({
      id: 1,
      description: "In Queue",
    });
    expect(statusOf({ id: record.token, status: "running" }).status).toEqual({
      id: 2,
      description: "Processing",
    });
    expect(statusOf({ id: record.token, status: "cancelled" }).status_id).toBe(13);
    const failed = statusOf({
      id: record.token,
      status: "failed",
      error: { code: "E_JOB_FAILED", message: "sandbox" },
    });
    expect(failed).toMatchObject({ status_id: 13, message: "sandbox", time: null, memory: null });
    expect(statusOf(null).status_id).toBe(13);
  });

  it("accepted and wrong answer by Judge0's comparison", () => {
    expect(statusOf(completed([step({ stdout: "5 \n\n" })]), { expected_output: "5" }).status_id).toBe(3);
    expect(statusOf(completed([step({ stdout: "6\n" })]), { expected_output: "5" }).status_id).toBe(4);
    expect(statusOf(completed([step({ verdict: "wrong_answer", stdout: "x" })])).status_id).toBe(3);
  });

  it("each failure becomes the status Judge0 clients expect", () => {
    const cases: [Partial<Step>, number, string | null][] = [
      [
        { verdict: "time_limit", stopReason: "cpu_time", signal: "SIGKILL", exitCode: null },
        5,
        "Time limit exceeded",
      ],
      [
        { verdict: "time_limit", stopReason: "wall_time", signal: "SIGKILL", exitCode: null },
        5,
        "Wall time limit exceeded",
      ],
      [{ verdict: "runtime_error", signal: "SIGSEGV", exitCode: null }, 7, "Caught fatal signal 11"],
      [{ verdict: "runtime_error", signal: "SIGXFSZ", exitCode: null }, 8, "Caught fatal signal 25"],
      [{ verdict: "output_limit", stopReason: "output" }, 8, "Output limit exceeded"],
      [{ verdict: "runtime_error", signal: "SIGFPE", exitCode: null }, 9, "Caught fatal signal 8"],
      [{ verdict: "runtime_error", signal: "SIGABRT", exitCode: null }, 10, "Caught fatal signal 6"],
      [{ verdict: "runtime_error", exitCode: 2 }, 11, "Exited with error status 2"],
      [{ verdict: "runtime_error", signal: "SIGTERM", exitCode: null }, 12, "Caught fatal signal 15"],
      [
        { verdict: "memory_limit", stopReason: "memory", signal: "SIGKILL", exitCode: null },
        12,
        "Memory limit exceeded",
      ],
      [{ verdict: "internal_error", error: "mount proc: EPERM" }, 13, "mount proc: EPERM"],
    ];
    for (const [over, id, message] of cases) {
      const shown = statusOf(completed([step(over)]));
      expect([shown.status_id, shown.message], JSON.stringify(over)).toEqual([id, message]);
    }
    const signalled = statusOf(
      completed([step({ verdict: "runtime_error", signal: "SIGSEGV", exitCode: null })]),
    );
    expect(signalled).toMatchObject({ exit_signal: 11, exit_code: null });
  });

  it("a compile error is 6 with the compiler's output, a compile timeout says so, runs show nothing", () => {
    const broken = statusOf(
      completed([], step({ verdict: "compile_error", exitCode: 1, stderr: "main.c:1: error" })),
    );
    expect(broken).toMatchObject({
      status_id: 6,
      compile_output: "main.c:1: error",
      stdout: null,
      time: null,
      memory: null,
      exit_code: null,
    });
    const slow = statusOf(
      completed([], step({ verdict: "compile_error", stopReason: "wall_time", exitCode: null })),
    );
    expect(slow).toMatchObject({ status_id: 6, compile_output: "Compilation time limit exceeded." });
  });

  it("several runs average time and memory; the first failing run decides", () => {
    const runs = [
      step({ usage: { cpuTimeMs: 10, wallTimeMs: 20, peakMemoryBytes: 1024 * 1000 } }),
      step({ usage: { cpuTimeMs: 30, wallTimeMs: 40, peakMemoryBytes: 1024 * 3000 } }),
    ];
    expect(statusOf(completed(runs))).toMatchObject({ time: "0.020", wall_time: "0.030", memory: 2000 });
    const failing = [
      runs[0] as Step,
      step({ verdict: "time_limit", stopReason: "cpu_time" }),
      runs[1] as Step,
    ];
    expect(statusOf(completed(failing)).status_id).toBe(5);
  });

  it("redirect_stderr_to_stdout appends stderr to stdout; empty outputs are null", () => {
    const shown = statusOf(completed([step({ stdout: "out\n", stderr: "err\n" })]), {
      redirect_stderr_to_stdout: true,
    });
    expect(shown).toMatchObject({ stdout: "out\nerr\n", stderr: null, compile_output: null, message: null });
  });
});

describe("Judge0 encoding and fields", () => {
  it("base64 is wrapped every 60 characters with a newline after each line; empty stays empty", () => {
    const text = "y".repeat(100);
    const encoded = encodeJudge0Base64(text);
    expect(encoded.split("\n").map((line) => line.length)).toEqual([60, 60, 16, 0]);
    expect(encodeJudge0Base64("")).toBe("");
    expect(decodeJudge0Base64(encoded)?.toString()).toBe(text);
    expect(decodeJudge0Base64("aGk=\r\n")?.toString()).toBe("hi");
    expect(decodeJudge0Base64("a$b=")).toBeNull();
    expect(decodeJudge0Base64("abcde")).toBeNull();
  });

  it("fields: defaults, *, a list in Judge0's order, unknown names a 400", () => {
    const full = statusOf(completed([step({ stdout: "hi\n" })]));
    expect(Object.keys(pickFields(full, parseFields(undefined), false))).toEqual([
      "token",
      "stdout",
      "time",
      "memory",
      "stderr",
      "compile_output",
      "message",
      "status",
    ]);
    expect(Object.keys(pickFields(full, parseFields("*"), false))).toHaveLength(36);
    expect(pickFields(full, parseFields("status_id, stdout"), true)).toEqual({
      stdout: "aGkK\n",
      status_id: 3,
    });
    expect(() => parseFields("stdout,bogus")).toThrow(/invalid fields: \[bogus\]/);
  });

  it("outputs match when only trailing whitespace differs", () => {
    expect(judge0OutputsMatch("1 2  \r\n3\n\n\n", "1 2\n3")).toBe(true);
    expect(judge0OutputsMatch(" 1", "1")).toBe(false);
    expect(judge0OutputsMatch("1\n\n2", "1\n2")).toBe(false);
  });
});

describe("command_line_arguments", () => {
  it("splits like a shell without expanding anything", () => {
    expect(splitArguments(`a  "b c" 'd e' f\\ g "h\\"i" 'j\\k' ""`)).toEqual([
      "a",
      "b c",
      "d e",
      "f g",
      'h"i',
      "j\\k",
      "",
    ]);
    expect(splitArguments("~ * ?(x) {a,b}")).toEqual(["~", "*", "?(x)", "{a,b}"]);
    expect(splitArguments("   ")).toEqual([]);
    expect(splitArguments(`"open`)).toBeNull();
  });
});
