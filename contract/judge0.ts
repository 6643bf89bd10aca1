import { z } from "zod";

// The Judge0 CE 1.13.1 compatibility layer's facts (api/judge0/ speaks the API). A Judge0
// submission is an ordinary cellblock job: its token is the job id. What Judge0 clients read back
// but a job does not keep (the source as sent, the expected output, the limits in Judge0's units,
// the options) is stored beside it in Redis as a SubmissionRecord, for as long as the job's result
// (RESULT_TTL_S). Judge0's own status ids are listed here once.

export const JUDGE0_VERSION = "1.13.1";

/** Judge0's status ids and descriptions (db/seeds.rb), in id order. */
export const JUDGE0_STATUSES = [
  { id: 1, description: "In Queue" },
  { id: 2, description: "Processing" },
  { id: 3, description: "Accepted" },
  { id: 4, description: "Wrong Answer" },
  { id: 5, description: "Time Limit Exceeded" },
  { id: 6, description: "Compilation Error" },
  { id: 7, description: "Runtime Error (SIGSEGV)" },
  { id: 8, description: "Runtime Error (SIGXFSZ)" },
  { id: 9, description: "Runtime Error (SIGFPE)" },
  { id: 10, description: "Runtime Error (SIGABRT)" },
  { id: 11, description: "Runtime Error (NZEC)" },
  { id: 12, description: "Runtime Error (Other)" },
  { id: 13, description: "Internal Error" },
  { id: 14, description: "Exec Format Error" },
] as const;

export type Judge0StatusId = (typeof JUDGE0_STATUSES)[number]["id"];

/** A submission's limits in Judge0's units: seconds and kilobytes (1 KB = 1024 bytes). */
export const Judge0LimitsSchema = z.object({
  cpu_time_limit: z.number(),
  cpu_extra_time: z.number(),
  wall_time_limit: z.number(),
  memory_limit: z.number(),
  stack_limit: z.number(),
  max_processes_and_or_threads: z.number(),
  enable_per_process_and_thread_time_limit: z.boolean(),
  enable_per_process_and_thread_memory_limit: z.boolean(),
  max_file_size: z.number(),
});

/** What a submission was created with, kept beside its job (Redis, RESULT_TTL_S). */
export const SubmissionRecordSchema = z.object({
  token: z.string(),
  /** The API key that created it; other keys see it as unknown. */
  keyId: z.string(),
  language_id: z.number().int(),
  source_code: z.string().nullable(),
  stdin: z.string().nullable(),
  expected_output: z.string().nullable(),
  compiler_options: z.string().nullable(),
  command_line_arguments: z.string().nullable(),
  redirect_stderr_to_stdout: z.boolean(),
  number_of_runs: z.number().int(),
  enable_network: z.boolean(),
  callback_url: z.string().nullable(),
  additional_files: z.string().nullable(),
  limits: Judge0LimitsSchema,
  /** ISO 8601 with milliseconds, e.g. 2024-04-03T05:40:51.306Z. */
  created_at: z.string(),
});

export type Judge0Limits = z.infer<typeof Judge0LimitsSchema>;
export type SubmissionRecord = z.infer<typeof SubmissionRecordSchema>;

export const judge0Keys = (prefix: string) => ({
  /** SubmissionRecord JSON of one token. */
  submission: (token: string) => `${prefix}:judge0:submission:${token}`,
  /** Sorted set of a key's tokens, scored by creation time (ms): GET /submissions pages through it. */
  submissionsByKey: (keyId: string) => `${prefix}:judge0:submissions:${keyId}`,
});
