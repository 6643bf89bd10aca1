import {
  base64Pattern,
  filePathPattern,
  type JobFile,
  type JobRequestInput,
} from "../../contract/job-request.ts";
import type { JobResult, Step } from "../../contract/job-result.ts";
import type { StepLimitValues } from "../../contract/resolve-limits.ts";
import { type PistonRuntime, resolveRuntime } from "./piston-runtimes.ts";

// POST /execute: Piston's body → a job request, and a job's result → Piston's answer. Checks run
// in Piston's order with Piston's messages (400 {"message"}). What real clients send is accepted:
// a missing version means "*" (piston-client sends none for an unknown language), -1 for a limit
// means our default, and the body may come as text/plain (the router parses it).
// Limits: run_timeout → wall time, run_cpu_time → CPU time, run_memory_limit → memory (bytes),
// each at most our ceiling. compile_* are checked the same way but compile steps keep their
// language's limits (as every cellblock compile does).

export class PistonError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "PistonError";
  }
}

const fail = (message: string) => new PistonError(400, message);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

const LIMIT_FIELDS = [
  "compile_timeout",
  "run_timeout",
  "compile_cpu_time",
  "run_cpu_time",
  "compile_memory_limit",
  "run_memory_limit",
] as const;
type LimitField = (typeof LIMIT_FIELDS)[number];

export interface ParsedExecute {
  runtime: PistonRuntime;
  request: JobRequestInput;
}

function jobFile(file: Record<string, unknown>, index: number, entryFile: string): JobFile {
  const path = index === 0 ? entryFile : typeof file.name === "string" ? file.name : `file${index}.code`;
  if (!filePathPattern.test(path) || path.length > 255)
    throw fail(`files[${index}].name must be a relative path of plain segments (letters, digits, . _ + -)`);
  if (index > 0 && path === entryFile)
    throw fail(`files[${index}].name "${entryFile}" is where this server puts the first file; rename it`);
  const content = file.content as string;
  switch (file.encoding ?? "utf8") {
    case "utf8":
      return { path, content, encoding: "utf8" };
    case "base64":
      if (!base64Pattern.test(content)) throw fail(`files[${index}].content is not valid base64`);
      return { path, content, encoding: "base64" };
    case "hex":
      if (!HEX.test(content)) throw fail(`files[${index}].content is not valid hex`);
      return { path, content: Buffer.from(content, "hex").toString("base64"), encoding: "base64" };
    default:
      throw fail(`files[${index}].encoding must be one of utf8, base64, hex`);
  }
}

/** Piston's ceiling for each limit field, from ours (ms, bytes). */
function limitCeilings(ceilings: StepLimitValues, compile: StepLimitValues): Record<LimitField, number> {
  return {
    compile_timeout: compile.wallTimeMs,
    run_timeout: ceilings.wallTimeMs,
    compile_cpu_time: compile.cpuTimeMs,
    run_cpu_time: ceilings.cpuTimeMs,
    compile_memory_limit: compile.memoryBytes,
    run_memory_limit: ceilings.memoryBytes,
  };
}

export function parseExecute(
  body: unknown,
  runtimes: readonly PistonRuntime[],
  ceilings: StepLimitValues,
  compileLimits: (runtime: PistonRuntime) => StepLimitValues,
): ParsedExecute {
  const b = isRecord(body) ? body : {};
  if (typeof b.language !== "string") throw fail("language is required as a string");
  if (b.version !== undefined && typeof b.version !== "string") throw fail("version is required as a string");
  const version = (b.version as string | undefined) ?? "*";
  if (!Array.isArray(b.files)) throw fail("files is required as an array");
  b.files.forEach((file, i) => {
    if (!isRecord(file) || typeof file.content !== "string")
      throw fail(`files[${i}].content is required as a string`);
  });
  const runtime = resolveRuntime(runtimes, b.language, version);
  if (!runtime) throw fail(`${b.language}-${version} runtime is unknown`);
  const files = b.files as Record<string, unknown>[];
  if (!files.some((file) => (file.encoding ?? "utf8") === "utf8"))
    throw fail("files must include at least one utf8 encoded file");

  const maxima = limitCeilings(ceilings, compileLimits(runtime));
  const limits: Partial<Record<LimitField, number>> = {};
  for (const field of LIMIT_FIELDS) {
    const value = b[field];
    if (value === undefined || value === null || value === -1) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) throw fail(`${field} must be a number`);
    if (value > maxima[field]) throw fail(`${field} cannot exceed the configured limit of ${maxima[field]}`);
    if (value < 0) throw fail(`${field} must be non-negative`);
    limits[field] = value;
  }
  if (b.args !== undefined && (!Array.isArray(b.args) || !b.args.every((arg) => typeof arg === "string")))
    throw fail("args must be an array of strings");
  if (b.stdin !== undefined && typeof b.stdin !== "string") throw fail("stdin must be a string");
  const stdin = (b.stdin as string | undefined) ?? "";

  const positive = (value: number | undefined) =>
    value === undefined || value === 0 ? undefined : Math.max(1, Math.round(value));
  const run = {
    wallTimeMs: positive(limits.run_timeout),
    cpuTimeMs: positive(limits.run_cpu_time),
    memoryBytes: positive(limits.run_memory_limit),
  };
  return {
    runtime,
    request: {
      language: runtime.definition.id,
      files: files.map((file, i) => jobFile(file, i, runtime.definition.sourceFile)),
      // Piston ends stdin with a newline when it has none; programs reading lines expect one.
      stdin: stdin === "" || stdin.endsWith("\n") ? stdin : `${stdin}\n`,
      args: (b.args as string[] | undefined) ?? [],
      limits: Object.fromEntries(Object.entries(run).filter(([, v]) => v !== undefined)),
    },
  };
}

/** Piston's stage object for one of our steps. */
export function pistonStage(step: Step) {
  let status: "RE" | "SG" | "TO" | "OL" | "EL" | "XX" | null = null;
  let signal = step.signal;
  let message: string | null = null;
  switch (step.verdict) {
    case "ok":
    case "accepted":
    case "wrong_answer":
      break;
    case "compile_error":
    case "runtime_error":
      status = step.signal ? "SG" : "RE";
      message = step.signal ? `Killed by signal ${step.signal}` : `Exited with error status ${step.exitCode}`;
      break;
    case "time_limit":
      status = "TO";
      signal = "SIGKILL";
      message = step.stopReason === "cpu_time" ? "CPU time limit exceeded" : "Wall time limit exceeded";
      break;
    case "output_limit":
      status = step.stderrTruncated && !step.stdoutTruncated ? "EL" : "OL";
      signal = "SIGKILL";
      message = status === "EL" ? "stderr length exceeded" : "stdout length exceeded";
      break;
    case "memory_limit":
      status = "SG";
      signal = "SIGKILL";
      message = "Memory limit exceeded";
      break;
    case "internal_error":
      status = "XX";
      message = step.error ?? "internal error";
      break;
  }
  return {
    stdout: step.stdout,
    stderr: step.stderr,
    output: step.stdout + step.stderr,
    code: signal ? null : step.exitCode,
    signal,
    message,
    status,
    cpu_time: Math.round(step.usage.cpuTimeMs),
    wall_time: Math.round(step.usage.wallTimeMs),
    memory: step.usage.peakMemoryBytes,
  };
}

/** Piston's answer: compile only for compiled runtimes; after a failed compile, run repeats it. */
export function pistonAnswer(runtime: PistonRuntime, result: JobResult) {
  const compile = result.compile ? pistonStage(result.compile) : null;
  const firstRun = result.runs[0];
  const run = firstRun ? pistonStage(firstRun) : compile;
  return {
    language: runtime.language,
    version: runtime.version,
    run,
    ...(runtime.definition.compile !== null && compile && { compile }),
  };
}

/** Piston's answer for a job that produced no result: one internal-error ("XX") stage. */
export function pistonFailure(runtime: PistonRuntime, message: string) {
  const stage = {
    stdout: "",
    stderr: "",
    output: "",
    code: null,
    signal: null,
    message,
    status: "XX" as const,
    cpu_time: 0,
    wall_time: 0,
    memory: 0,
  };
  return { language: runtime.language, version: runtime.version, run: stage };
}
