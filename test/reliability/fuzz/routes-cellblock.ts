import { errorRegistry } from "../../../contract/errors.ts";
import type { FuzzApi } from "./route-table.ts";

// cellblock's own API (README "API"): every route and its error body
// {"error":{"code":"E_…","message":"…"}} with a code from contract/errors.ts.

const job = { language: "python", source: "print(1)" };
const tested = {
  language: "c",
  source: "int main(){return 0;}",
  tests: [{ stdin: "1 2\n", expectedOutput: "3\n" }],
  compare: "tokens",
  limits: { cpuTimeMs: 1000, memoryBytes: 67108864, wallTimeMs: 2000, pids: 8, outputBytes: 1024 },
};
const withFiles = {
  language: "python",
  files: [
    { path: "main.py", content: "cHJpbnQoMSk=", encoding: "base64" },
    { path: "lib/util.py", content: "x = 1\n" },
  ],
  stdin: "x\n",
  args: ["--flag", "value"],
  // An address literal: the SSRF check resolves hosts, and this machine has no DNS.
  callbackUrl: "https://93.184.215.14/hook",
};
// The judging fields: a checker, per-test limits, files and checkers, subtasks, output files.
const judged = {
  language: "python",
  source: "open('output.txt','w').write(input())",
  tests: [
    {
      stdin: "1\n",
      expectedOutput: "1\n",
      limits: { cpuTimeMs: 500 },
      files: [{ path: "input.txt", content: "1\n" }],
      compareFile: "output.txt",
    },
    { stdin: "2\n", expectedOutput: "2\n", compare: "exact" },
  ],
  checker: { language: "python", source: "import sys\nsys.exit(0)", limits: { wallTimeMs: 2000 } },
  groups: [
    { name: "small", points: 40, tests: [0] },
    { points: 60, tests: [0, 1], stopAtFirstFailure: true },
  ],
  outputFiles: ["output.txt", "out/**/*.csv"],
};
const interactive = {
  language: "python",
  files: [{ path: "main.py", content: "print(input())" }],
  tests: [{ stdin: "5\n", expectedOutput: "" }],
  interactor: {
    language: "python",
    files: [{ path: "main.py", content: "print(5)" }],
    limits: { cpuTimeMs: 1000, memoryBytes: 67108864 },
  },
  compareFile: "answer.txt",
};
const jobBodies = [job, tested, withFiles, judged, interactive];

export function cellblockErrorCode(
  _status: number,
  body: Buffer,
  contentType: string | undefined,
): string | null {
  if (!contentType?.startsWith("application/json")) return null;
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    if (typeof code !== "string" || !(code in errorRegistry)) return null;
    return typeof parsed.error?.message === "string" ? code : null;
  } catch {
    return null;
  }
}

export const cellblockApi: FuzzApi = {
  name: "cellblock",
  errorCode: cellblockErrorCode,
  routes: [
    { method: "POST", path: "/run", bodies: jobBodies, query: { waitMs: ["0", "50"] } },
    { method: "POST", path: "/jobs", bodies: jobBodies, headers: { "Idempotency-Key": ["fuzz-key-1"] } },
    { method: "GET", path: "/jobs/:id", ids: (context) => ({ id: context.jobId }) },
    { method: "DELETE", path: "/jobs/:id", ids: (context) => ({ id: context.jobId }) },
    {
      method: "POST",
      path: "/batches",
      bodies: [{ jobs: [job, tested] }, { jobs: [job], callbackUrl: "https://93.184.215.14/batch" }],
    },
    {
      method: "GET",
      path: "/batches/:id",
      ids: (context) => ({ id: context.batchId }),
      query: { offset: ["0", "1"], limit: ["1", "100"] },
    },
    { method: "DELETE", path: "/batches/:id", ids: (context) => ({ id: context.batchId }) },
    {
      method: "GET",
      path: "/jobs/:id/events",
      ids: (context) => ({ id: context.finishedJobId }),
      query: { lastEventId: ["0-0", "1-1"] },
      headers: { "Last-Event-ID": ["0-0"] },
    },
    // A stream ends with its job, and no worker runs: with the busy key, accepted input is a 429.
    { method: "POST", path: "/run", bodies: jobBodies, query: { stream: ["1"] }, auth: "busy" },
    // The WebSocket route asked for with plain HTTP (and, among the header tricks, an Upgrade).
    { method: "GET", path: "/ws" },
    { method: "GET", path: "/languages" },
    { method: "GET", path: "/workers" },
    { method: "GET", path: "/status.json" },
    { method: "GET", path: "/metrics" },
    { method: "GET", path: "/healthz" },
    // No worker runs during fuzzing, so /readyz is 503 by design.
    { method: "GET", path: "/readyz", serverErrorsByDesign: ["E_NOT_READY"] },
    { method: "GET", path: "/" },
    { method: "GET", path: "/status" },
    { method: "GET", path: "/admin/queues" },
  ],
};
