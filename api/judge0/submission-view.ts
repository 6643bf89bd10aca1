import { constants } from "node:os";
import type { JobView, Step } from "../../contract/job-result.ts";
import { JUDGE0_STATUSES, type Judge0StatusId, type SubmissionRecord } from "../../contract/judge0.ts";
import { encodeJudge0Base64 } from "./judge0-base64.ts";
import { Judge0Error } from "./judge0-errors.ts";

// A job as a Judge0 submission (app/serializers/submission_serializer.rb): the status from the
// job's steps, time and memory averaged over the runs (number_of_runs), decimals as strings
// ("0.012", limits "5.0"), memory in KB, empty outputs null, and the text fields base64-encoded
// on request. Our verdicts map onto Judge0's statuses as its worker maps isolate's outcomes:
//   time_limit → 5; output_limit → 8 (Judge0 writes output to a file, so a flood is SIGXFSZ);
//   runtime_error by signal: SIGSEGV → 7, SIGXFSZ → 8, SIGFPE → 9, SIGABRT → 10, other → 12,
//   no signal (non-zero exit) → 11; memory_limit → 12 with message "Memory limit exceeded"
//   (Judge0 has no memory status: its programs die by a signal when they hit the limit);
//   internal_error, a cancelled or failed job → 13; otherwise 3, or 4 when expected_output is set
//   and differs after trailing whitespace is removed from every line and from the end.

export const DEFAULT_FIELDS = [
  "token",
  "time",
  "memory",
  "stdout",
  "stderr",
  "compile_output",
  "message",
  "status",
];

export const ALL_FIELDS = [
  "token",
  "source_code",
  "language_id",
  "stdin",
  "expected_output",
  "stdout",
  "status_id",
  "created_at",
  "finished_at",
  "time",
  "memory",
  "stderr",
  "number_of_runs",
  "cpu_time_limit",
  "cpu_extra_time",
  "wall_time_limit",
  "memory_limit",
  "stack_limit",
  "max_processes_and_or_threads",
  "enable_per_process_and_thread_time_limit",
  "enable_per_process_and_thread_memory_limit",
  "max_file_size",
  "compile_output",
  "exit_code",
  "exit_signal",
  "message",
  "wall_time",
  "compiler_options",
  "command_line_arguments",
  "redirect_stderr_to_stdout",
  "callback_url",
  "additional_files",
  "enable_network",
  // Newer hosted Judge0 versions answer the work dir after the run as a zip; ours is not kept.
  "post_execution_filesystem",
  "status",
  "language",
];

const BASE64_FIELDS = new Set([
  "source_code",
  "stdin",
  "expected_output",
  "stdout",
  "stderr",
  "compile_output",
  "message",
]);

/** `?fields=`: Judge0's default set, "*" for all, else a comma list; unknown names are a 400. */
export function parseFields(raw: unknown): string[] {
  if (raw === undefined || raw === "") return DEFAULT_FIELDS;
  if (typeof raw !== "string") throw Judge0Error.plain(400, "invalid fields: [fields]");
  const names = raw
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.includes("*")) return ALL_FIELDS;
  const unknown = names.filter((name) => !ALL_FIELDS.includes(name));
  if (unknown.length > 0) throw Judge0Error.plain(400, `invalid fields: [${unknown.join(", ")}]`);
  return names;
}

/** Judge0's comparison: trailing whitespace of every line and of the whole output does not count. */
export function judge0OutputsMatch(actual: string, expected: string): boolean {
  const normalize = (text: string) =>
    text
      .replace(/\r\n/g, "\n")
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .trimEnd();
  return normalize(actual) === normalize(expected);
}

const signalNumber = (name: string | null): number | null =>
  name === null ? null : ((constants.signals as Record<string, number>)[name] ?? null);

interface Outcome {
  statusId: Judge0StatusId;
  run: Step | null;
  runs: Step[];
  stdout: string;
  stderr: string;
  compileOutput: string;
  message: string;
}

function runStatus(
  run: Step,
  stdout: string,
  expected: string | null,
): { id: Judge0StatusId; message: string } {
  switch (run.verdict) {
    case "ok":
    case "accepted":
    case "wrong_answer":
      return { id: expected === null || judge0OutputsMatch(stdout, expected) ? 3 : 4, message: "" };
    case "time_limit":
      return {
        id: 5,
        message: run.stopReason === "wall_time" ? "Wall time limit exceeded" : "Time limit exceeded",
      };
    case "memory_limit":
      return { id: 12, message: "Memory limit exceeded" };
    case "output_limit":
      return { id: 8, message: "Output limit exceeded" };
    case "runtime_error": {
      const number = signalNumber(run.signal);
      if (number === null)
        return { id: 11, message: `Exited with error status ${run.exitCode ?? ""}`.trim() };
      const bySignal: Record<string, Judge0StatusId> = { SIGSEGV: 7, SIGXFSZ: 8, SIGFPE: 9, SIGABRT: 10 };
      return { id: bySignal[run.signal ?? ""] ?? 12, message: `Caught fatal signal ${number}` };
    }
    case "internal_error":
      return { id: 13, message: run.error ?? "internal error" };
    case "compile_error":
      return { id: 13, message: "a run step reported a compile error" };
    // Judge0 submissions carry no checker, interactor or groups, so these cannot occur; if one
    // does, it is told as Judge0 would read it.
    case "presentation_error":
    case "partial":
      return { id: 4, message: "" };
    case "checker_error":
    case "skipped":
      return { id: 13, message: run.error ?? run.verdict };
  }
}

function outcomeOf(record: SubmissionRecord, view: JobView | null): Outcome {
  const empty = { run: null, runs: [], stdout: "", stderr: "", compileOutput: "" };
  if (!view) return { ...empty, statusId: 13, message: "the job is gone (unknown, or its result expired)" };
  if (view.status === "queued") return { ...empty, statusId: 1, message: "" };
  if (view.status === "running") return { ...empty, statusId: 2, message: "" };
  if (view.status === "cancelled") return { ...empty, statusId: 13, message: "the job was cancelled" };
  if (view.status === "failed" || !view.result)
    return { ...empty, statusId: 13, message: view.error?.message ?? "the job failed" };
  const { compile, runs } = view.result;
  const compileOutput = compile ? compile.stdout + compile.stderr : "";
  if (compile && compile.verdict !== "ok") {
    if (compile.verdict === "internal_error")
      return { ...empty, statusId: 13, compileOutput, message: compile.error ?? "internal error" };
    const timedOut = compile.stopReason === "cpu_time" || compile.stopReason === "wall_time";
    return {
      ...empty,
      statusId: 6,
      compileOutput: timedOut ? "Compilation time limit exceeded." : compileOutput,
      message: "",
    };
  }
  const failing = runs.find((r) => !["ok", "accepted", "wrong_answer"].includes(r.verdict));
  const run = failing ?? runs.at(-1) ?? null;
  if (!run) return { ...empty, compileOutput, statusId: 13, message: "the job has no run step" };
  const stdout = record.redirect_stderr_to_stdout ? run.stdout + run.stderr : run.stdout;
  const stderr = record.redirect_stderr_to_stdout ? "" : run.stderr;
  const status = runStatus(run, stdout, record.expected_output);
  return { statusId: status.id, run, runs, stdout, stderr, compileOutput, message: status.message };
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);
const limitSeconds = (s: number) => (Number.isInteger(s) ? s.toFixed(1) : String(s));
const orNull = (text: string) => (text === "" ? null : text);
const average = (steps: Step[], pick: (step: Step) => number) =>
  steps.reduce((sum, step) => sum + pick(step), 0) / steps.length;

/** Every field of the submission (Judge0's names), before `fields` and base64 are applied. */
export function fullSubmission(
  record: SubmissionRecord,
  view: JobView | null,
  finishedAt: number | null,
  languageName: string,
): Record<string, unknown> {
  const outcome = outcomeOf(record, view);
  const ran = outcome.run !== null;
  const description = JUDGE0_STATUSES.find((s) => s.id === outcome.statusId)?.description ?? "";
  const { limits } = record;
  return {
    token: record.token,
    source_code: record.source_code,
    language_id: record.language_id,
    stdin: record.stdin,
    expected_output: record.expected_output,
    stdout: orNull(outcome.stdout),
    status_id: outcome.statusId,
    created_at: record.created_at,
    finished_at: finishedAt === null ? null : new Date(finishedAt).toISOString(),
    time: ran ? seconds(average(outcome.runs, (s) => s.usage.cpuTimeMs)) : null,
    memory: ran ? Math.round(average(outcome.runs, (s) => s.usage.peakMemoryBytes) / 1024) : null,
    stderr: orNull(outcome.stderr),
    number_of_runs: record.number_of_runs,
    cpu_time_limit: limitSeconds(limits.cpu_time_limit),
    cpu_extra_time: limitSeconds(limits.cpu_extra_time),
    wall_time_limit: limitSeconds(limits.wall_time_limit),
    memory_limit: limits.memory_limit,
    stack_limit: limits.stack_limit,
    max_processes_and_or_threads: limits.max_processes_and_or_threads,
    enable_per_process_and_thread_time_limit: limits.enable_per_process_and_thread_time_limit,
    enable_per_process_and_thread_memory_limit: limits.enable_per_process_and_thread_memory_limit,
    max_file_size: limits.max_file_size,
    compile_output: orNull(outcome.compileOutput),
    exit_code: outcome.run ? outcome.run.exitCode : null,
    exit_signal: outcome.run ? signalNumber(outcome.run.signal) : null,
    message: orNull(outcome.message),
    wall_time: ran ? seconds(average(outcome.runs, (s) => s.usage.wallTimeMs)) : null,
    compiler_options: record.compiler_options,
    command_line_arguments: record.command_line_arguments,
    redirect_stderr_to_stdout: record.redirect_stderr_to_stdout,
    callback_url: record.callback_url,
    additional_files: record.additional_files,
    enable_network: record.enable_network,
    post_execution_filesystem: null,
    status: { id: outcome.statusId, description },
    language: { id: record.language_id, name: languageName },
  };
}

/** The requested fields, in Judge0's order, text fields base64-encoded when asked. */
export function pickFields(full: Record<string, unknown>, fields: readonly string[], base64: boolean) {
  const picked: Record<string, unknown> = {};
  for (const name of ALL_FIELDS) {
    if (!fields.includes(name)) continue;
    const value = full[name];
    picked[name] =
      base64 && BASE64_FIELDS.has(name) && typeof value === "string" ? encodeJudge0Base64(value) : value;
  }
  return picked;
}

/** Whether the submission has its final status (Judge0 clients poll while status.id ≤ 2). */
export function isFinished(view: JobView | null): boolean {
  return view === null || !["queued", "running"].includes(view.status);
}
