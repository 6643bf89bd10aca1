import { writeZip } from "../../helpers/zip-writer.ts";
import { compatErrorCode, parseJson } from "./compat-shapes.ts";
import { FUZZ_API_KEY } from "./fuzz-service.ts";
import type { FuzzApi } from "./route-table.ts";

// The Judge0 CE 1.13.1 API at /judge0 (docs/COMPAT.md): every route and Judge0's error shapes —
// 422 {"field":["message", …]}, {"error":"message"} for 400/404/413/429/503, and 401/403 with an
// empty body.

const base = "/judge0";
// 71 is Judge0's Python 3 (rootfs-recipes/python/recipe.json).
const submission = { source_code: "print(input())", language_id: 71, stdin: "hi" };
const limited = {
  source_code: "print(1)",
  language_id: "71",
  expected_output: "1\n",
  cpu_time_limit: 1.5,
  cpu_extra_time: 0.5,
  wall_time_limit: 3,
  memory_limit: 65536,
  stack_limit: 64000,
  max_processes_and_or_threads: 8,
  max_file_size: 1024,
  number_of_runs: 2,
  command_line_arguments: "--flag 'two words' \"x\"",
  redirect_stderr_to_stdout: true,
  enable_per_process_and_thread_time_limit: false,
  enable_network: false,
  compiler_options: "",
};
const encoded = {
  source_code: Buffer.from("print(1)").toString("base64"),
  language_id: 71,
  stdin: Buffer.from("x\n").toString("base64"),
  additional_files: writeZip([{ name: "data.txt", data: "42\n" }]).toString("base64"),
  callback_url: "https://93.184.215.14/judge0",
};
const fields = ["*", "token,status", "stdout,time,memory"];

/** Rails' errors hash: field → messages. */
const isFieldErrors = (value: unknown): value is Record<string, string[]> =>
  value !== null &&
  typeof value === "object" &&
  !Array.isArray(value) &&
  Object.keys(value).length > 0 &&
  Object.values(value).every(
    (messages) => Array.isArray(messages) && messages.every((m) => typeof m === "string"),
  );

function judge0Shape(status: number, body: Buffer, contentType: string | undefined): string | null {
  if ((status === 401 || status === 403) && body.length === 0) return `${status} empty`;
  const parsed = parseJson(body, contentType);
  if (status === 422) {
    if (isFieldErrors(parsed)) return `422 ${Object.keys(parsed)[0]}`;
    // A batch: per item its {token} or its field errors (422 when none was valid).
    const items = Array.isArray(parsed) ? parsed : [];
    const itemShaped = items.every(
      (item) => isFieldErrors(item) || typeof (item as { token?: unknown } | null)?.token === "string",
    );
    return items.length > 0 && itemShaped ? "422 batch" : null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  return Object.keys(parsed).length === 1 && typeof (parsed as { error?: unknown }).error === "string"
    ? "error"
    : null;
}

export const judge0Api: FuzzApi = {
  name: "judge0",
  errorCode: compatErrorCode([base], judge0Shape),
  routes: [
    {
      method: "POST",
      path: `${base}/submissions`,
      bodies: [submission, limited],
      query: { base64_encoded: ["false"], fields },
    },
    { method: "POST", path: `${base}/submissions`, bodies: [encoded], query: { base64_encoded: ["true"] } },
    // wait=true holds the answer until the job ends: with the busy key, accepted input is a 429.
    {
      method: "POST",
      path: `${base}/submissions`,
      bodies: [submission, limited],
      query: { wait: ["true"], fields },
      auth: "busy",
    },
    {
      method: "GET",
      path: `${base}/submissions/:token`,
      ids: (context) => ({ token: context.judge0Token }),
      query: { base64_encoded: ["true", "false"], fields },
    },
    {
      method: "DELETE",
      path: `${base}/submissions/:token`,
      ids: (context) => ({ token: context.judge0Token }),
    },
    {
      method: "GET",
      path: `${base}/submissions`,
      query: { page: ["1", "2"], per_page: ["1", "100"], base64_encoded: ["true"], fields },
    },
    {
      method: "POST",
      path: `${base}/submissions/batch`,
      bodies: [{ submissions: [submission, encoded] }, { submissions: [limited] }],
      query: { base64_encoded: ["false"] },
    },
    {
      method: "GET",
      path: `${base}/submissions/batch`,
      ids: () => ({}),
      query: {
        tokens: ["00000000-0000-4000-8000-000000000000", "a,b"],
        base64_encoded: ["true", "false"],
        fields,
      },
    },
    { method: "GET", path: `${base}/languages` },
    { method: "GET", path: `${base}/languages/all` },
    { method: "GET", path: `${base}/languages/:id`, ids: () => ({ id: "71" }) },
    { method: "GET", path: `${base}/statuses` },
    { method: "GET", path: `${base}/about` },
    { method: "GET", path: `${base}/version` },
    { method: "GET", path: `${base}/config_info` },
    { method: "GET", path: `${base}/system_info` },
    { method: "GET", path: `${base}/workers` },
    { method: "POST", path: `${base}/authenticate` },
    { method: "POST", path: `${base}/authorize`, headers: { "X-Auth-User": [FUZZ_API_KEY] } },
  ],
};
