import type { JobFile, JobRequestInput } from "../../contract/job-request.ts";
import type { Judge0Limits, SubmissionRecord } from "../../contract/judge0.ts";
import type { LanguageDefinition } from "../../contract/language.ts";
import type { OperatorLimits, StepLimitValues } from "../../contract/resolve-limits.ts";
import { resolveRunLimits } from "../../contract/resolve-limits.ts";
import { ArchiveError, extractAdditionalFiles } from "./additional-files.ts";
import { STRIPPED_ARGUMENT_CHARS, splitArguments } from "./command-line.ts";
import { decodeJudge0Base64 } from "./judge0-base64.ts";
import { addFieldError, type FieldErrors, Judge0Error } from "./judge0-errors.ts";

// A Judge0 submission body → a cellblock job request plus the record Judge0 clients read back.
// Like Rails, every field is checked and all problems are reported at once (422 {"field":[…]}),
// with Rails' messages. Limits arrive in Judge0's units (seconds, KB = 1024 bytes) and become
// ours; unset ones fall back to the language's and operator's defaults, and the record keeps the
// limits the job really gets, converted back. Judge0's ranges apply, lowered to our ceilings
// (GET /judge0/config_info shows the same numbers).

export interface SubmissionContext {
  /** Judge0 id → language, among the languages requests may name now. */
  languages: ReadonlyMap<number, LanguageDefinition>;
  /** What the caller may ask for: the operator's ceilings lowered by its key's. */
  ceilings: StepLimitValues;
  operator: Pick<OperatorLimits, "run">;
  base64: boolean;
  maxRuns: number;
}

export interface ParsedSubmission {
  record: Omit<SubmissionRecord, "token" | "keyId" | "created_at">;
  request: JobRequestInput;
  callbackUrl: string | undefined;
}

type Body = Record<string, unknown>;

/** Judge0's accepted maxima of each limit, in its units, before our ceilings lower them. */
export const JUDGE0_MAXIMA = {
  cpu_time_limit: 15,
  cpu_extra_time: 5,
  wall_time_limit: 20,
  memory_limit: 512000,
  stack_limit: 128000,
  max_processes_and_or_threads: 120,
  max_file_size: 4096,
  number_of_runs: 20,
} as const;

/** Judge0's defaults of the limits we accept but do not apply (every step has the sandbox's own). */
const UNAPPLIED_DEFAULTS = { stack_limit: 64000, max_file_size: 1024 } as const;

/** The largest value of each limit this caller may send, in Judge0's units. */
export function judge0Maxima(ceilings: StepLimitValues, maxRuns: number) {
  return {
    ...JUDGE0_MAXIMA,
    cpu_time_limit: Math.min(JUDGE0_MAXIMA.cpu_time_limit, ceilings.cpuTimeMs / 1000),
    wall_time_limit: Math.min(JUDGE0_MAXIMA.wall_time_limit, ceilings.wallTimeMs / 1000),
    memory_limit: Math.min(JUDGE0_MAXIMA.memory_limit, Math.floor(ceilings.memoryBytes / 1024)),
    max_processes_and_or_threads: Math.min(JUDGE0_MAXIMA.max_processes_and_or_threads, ceilings.pids),
    number_of_runs: Math.min(JUDGE0_MAXIMA.number_of_runs, maxRuns),
  };
}

/** Ruby's Float#to_s for the numbers in messages: 15 → "15.0". */
export function rubyFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

const blank = (value: unknown) => value === undefined || value === null || value === "";

class FieldReader {
  readonly errors: FieldErrors = {};
  constructor(private readonly body: Body) {}

  string(field: string): string | null {
    const value = this.body[field];
    if (blank(value)) return value === "" ? "" : null;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    addFieldError(this.errors, field, "is invalid");
    return null;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.body[field];
    if (blank(value)) return fallback;
    if (value === true || value === "true" || value === 1 || value === "1") return true;
    if (value === false || value === "false" || value === 0 || value === "0") return false;
    addFieldError(this.errors, field, "is not a boolean");
    return fallback;
  }

  /** A number (or numeric string) within (min, max]; `minInclusive` makes the minimum allowed. */
  number(
    field: string,
    range: { min: number; minInclusive?: boolean; max: number; integer?: boolean },
  ): number | undefined {
    const value = this.body[field];
    if (blank(value)) return undefined;
    const number =
      typeof value === "number"
        ? value
        : typeof value === "string" && value.trim() !== ""
          ? Number(value)
          : Number.NaN;
    if (!Number.isFinite(number)) {
      addFieldError(this.errors, field, "is not a number");
      return undefined;
    }
    if (range.integer && !Number.isInteger(number)) {
      addFieldError(this.errors, field, "must be an integer");
      return undefined;
    }
    const show = range.integer ? String : rubyFloat;
    if (range.minInclusive ? number < range.min : number <= range.min) {
      const relation = range.minInclusive ? "greater than or equal to" : "greater than";
      addFieldError(this.errors, field, `must be ${relation} ${show(range.min)}`);
      return undefined;
    }
    if (number > range.max) {
      addFieldError(this.errors, field, `must be less than or equal to ${show(range.max)}`);
      return undefined;
    }
    return number;
  }

  /** A text field, base64-decoded when the request says so. */
  text(field: string, base64: boolean): string | null {
    const raw = this.string(field);
    if (raw === null || !base64) return raw;
    const bytes = decodeJudge0Base64(raw);
    if (bytes === null) {
      addFieldError(this.errors, field, "is not valid base64");
      return null;
    }
    return bytes.toString("utf8");
  }
}

function limitsRecord(
  read: FieldReader,
  maxima: ReturnType<typeof judge0Maxima>,
  effective: StepLimitValues,
  sent: { cpu_extra_time: number | undefined },
): Judge0Limits {
  const stack = read.number("stack_limit", { min: 0, max: maxima.stack_limit, integer: true });
  const fileSize = read.number("max_file_size", { min: 0, max: maxima.max_file_size, integer: true });
  const perProcess = (field: string) => {
    const enabled = read.boolean(field, false);
    if (enabled) addFieldError(read.errors, field, "this option cannot be enabled");
    return false;
  };
  return {
    cpu_time_limit: effective.cpuTimeMs / 1000,
    cpu_extra_time: sent.cpu_extra_time ?? 0,
    wall_time_limit: effective.wallTimeMs / 1000,
    memory_limit: Math.floor(effective.memoryBytes / 1024),
    stack_limit: stack ?? UNAPPLIED_DEFAULTS.stack_limit,
    max_processes_and_or_threads: effective.pids,
    enable_per_process_and_thread_time_limit: perProcess("enable_per_process_and_thread_time_limit"),
    enable_per_process_and_thread_memory_limit: perProcess("enable_per_process_and_thread_memory_limit"),
    max_file_size: fileSize ?? UNAPPLIED_DEFAULTS.max_file_size,
  };
}

async function additionalFiles(read: FieldReader, sourceFile: string | undefined): Promise<JobFile[]> {
  const raw = read.string("additional_files");
  if (raw === null || raw === "") return [];
  const zip = decodeJudge0Base64(raw);
  if (zip === null) {
    addFieldError(read.errors, "additional_files", "is not valid base64");
    return [];
  }
  try {
    const files = await extractAdditionalFiles(zip);
    if (sourceFile && files.some((file) => file.path === sourceFile)) {
      addFieldError(read.errors, "additional_files", `must not contain ${sourceFile}, the source file`);
    }
    return files;
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw error;
    addFieldError(read.errors, "additional_files", error.message);
    return [];
  }
}

/** Parses and checks one submission; throws Judge0Error 422 with every problem found. */
export async function parseSubmission(
  rawBody: unknown,
  context: SubmissionContext,
): Promise<ParsedSubmission> {
  const body: Body =
    rawBody !== null && typeof rawBody === "object" && !Array.isArray(rawBody) ? (rawBody as Body) : {};
  const read = new FieldReader(body);
  const maxima = judge0Maxima(context.ceilings, context.maxRuns);

  const source = read.text("source_code", context.base64);
  if (source === "" || (source === null && blank(body.source_code)))
    addFieldError(read.errors, "source_code", "can't be blank");
  const languageId = read.number("language_id", {
    min: Number.NEGATIVE_INFINITY,
    max: Number.POSITIVE_INFINITY,
    integer: true,
  });
  const language = languageId === undefined ? undefined : context.languages.get(languageId);
  if (blank(body.language_id)) addFieldError(read.errors, "language_id", "can't be blank");
  else if (languageId !== undefined && !language)
    addFieldError(read.errors, "language_id", `language with id ${languageId} doesn't exist`);

  const stdin = read.text("stdin", context.base64);
  const expectedOutput = read.text("expected_output", context.base64);
  const compilerOptions = read.string("compiler_options");
  if (compilerOptions)
    addFieldError(read.errors, "compiler_options", "setting compiler options is not allowed");
  const commandLine = read.string("command_line_arguments");
  if (commandLine !== null && commandLine.length > 512)
    addFieldError(read.errors, "command_line_arguments", "is too long (maximum is 512 characters)");
  const args = splitArguments((commandLine ?? "").replace(STRIPPED_ARGUMENT_CHARS, ""));
  if (args === null) addFieldError(read.errors, "command_line_arguments", "has an unterminated quote");

  const cpu = read.number("cpu_time_limit", { min: 0, max: maxima.cpu_time_limit });
  const cpuExtra = read.number("cpu_extra_time", { min: 0, minInclusive: true, max: maxima.cpu_extra_time });
  const wall = read.number("wall_time_limit", { min: 0, max: maxima.wall_time_limit });
  const memory = read.number("memory_limit", {
    min: 2048,
    minInclusive: true,
    max: maxima.memory_limit,
    integer: true,
  });
  const pids = read.number("max_processes_and_or_threads", {
    min: 0,
    max: maxima.max_processes_and_or_threads,
    integer: true,
  });
  const runs = read.number("number_of_runs", { min: 0, max: maxima.number_of_runs, integer: true }) ?? 1;
  const redirect = read.boolean("redirect_stderr_to_stdout", false);
  if (read.boolean("enable_network", false))
    addFieldError(read.errors, "enable_network", "this option cannot be enabled");
  const callbackUrl = read.string("callback_url");
  const extraFiles = await additionalFiles(read, language?.sourceFile);

  const limits = {
    ...(cpu !== undefined && { cpuTimeMs: Math.max(1, Math.round(cpu * 1000)) }),
    ...(wall !== undefined && { wallTimeMs: Math.max(1, Math.round(wall * 1000)) }),
    ...(memory !== undefined && { memoryBytes: memory * 1024 }),
    ...(pids !== undefined && { pids }),
  };
  const effective = resolveRunLimits(limits, language ?? { limits: {} }, context.operator);
  const limitsView = limitsRecord(read, maxima, effective, { cpu_extra_time: cpuExtra });
  if (Object.keys(read.errors).length > 0 || !language || source === null)
    throw Judge0Error.invalid(read.errors);

  const files: JobFile[] = [
    {
      path: language.sourceFile,
      content: Buffer.from(source, "utf8").toString("base64"),
      encoding: "base64",
    },
    ...extraFiles,
  ];
  // Several runs are several tests of one compile; the expected output is compared here, in
  // Judge0's way (api/judge0/submission-view.ts), so the tests expect nothing in particular.
  const request: JobRequestInput = {
    language: language.id,
    files,
    stdin: stdin ?? "",
    args: args ?? [],
    limits,
    ...(runs > 1 && {
      tests: Array.from({ length: runs }, () => ({ stdin: stdin ?? "", expectedOutput: "" })),
      compare: "exact" as const,
    }),
  };
  return {
    request,
    callbackUrl: callbackUrl || undefined,
    record: {
      language_id: languageId as number,
      source_code: source,
      stdin,
      expected_output: expectedOutput,
      compiler_options: compilerOptions,
      command_line_arguments: commandLine,
      redirect_stderr_to_stdout: redirect,
      number_of_runs: runs,
      enable_network: false,
      callback_url: callbackUrl || null,
      additional_files: read.string("additional_files") || null,
      limits: limitsView,
    },
  };
}
