import type { z } from "zod";
import type { ErrorCode } from "../contract/errors.ts";
import type { JobResult, Step } from "../contract/job-result.ts";
import type { DocumentSchemaName, documentSchemas } from "./openapi-schemas.ts";

// Examples shown in the OpenAPI document, one per component that a request or a response carries.
// Each is typed as what its schema accepts, and test/api/openapi.test.ts parses every example found
// in the generated document with its component's zod schema, so an example cannot go stale.

type Examples = { [K in DocumentSchemaName]?: z.input<(typeof documentSchemas)[K]> };

const jobId = "3f0c1d9e-8a5b-4c52-9d1e-2b7f6a4c8e10";
const batchId = "b7e2a4c1-6f3d-4e8a-9b2c-1d5e7f9a0c3b";
const usage = { cpuTimeMs: 3, wallTimeMs: 5, peakMemoryBytes: 1_310_720 };
const passed: Step = {
  verdict: "accepted",
  exitCode: 0,
  signal: null,
  stopReason: null,
  stdout: "3\n",
  stderr: "",
  stdoutTruncated: false,
  stderrTruncated: false,
  usage,
};
const result: JobResult = {
  id: jobId,
  status: "completed",
  verdict: "wrong_answer",
  language: "c",
  compile: { ...passed, verdict: "ok", stdout: "", usage: { ...usage, cpuTimeMs: 61, wallTimeMs: 70 } },
  runs: [passed, { ...passed, verdict: "wrong_answer", stdout: "5\n" }],
};
const limits = { cpuTimeMs: 2000, wallTimeMs: 5000, memoryBytes: 268_435_456, pids: 64, outputBytes: 65_536 };
const python = {
  id: "python",
  name: "Python 3 (CPython)",
  version: "Python 3.11.2",
  compiled: false,
  sourceFile: "main.py",
  limits,
  compileLimits: null,
};
const worker = {
  id: "worker-1",
  pid: 4242,
  host: "box-1",
  slots: 2,
  busySlots: 1,
  languages: ["bash", "c", "python"],
  images: ["host"],
  selfCheck: { ok: true, detail: "all isolation checks passed" },
  startedAt: "2026-12-02T11:00:00.000Z",
  seenAt: "2026-12-02T11:05:00.000Z",
};

export const examples: Examples = {
  JobSubmission: {
    language: "c",
    source: '#include <stdio.h>\nint main(){int a,b;scanf("%d %d",&a,&b);printf("%d\\n",a+b);}',
    tests: [
      { stdin: "1 2\n", expectedOutput: "3\n" },
      { stdin: "2 2\n", expectedOutput: "4" },
    ],
    compare: "trim",
    limits: { cpuTimeMs: 1000, memoryBytes: 67_108_864 },
  },
  JobResult: result,
  RunPending: { id: jobId, status: "running" },
  JobAccepted: { id: jobId },
  JobView: { id: jobId, status: "completed", result },
  BatchSubmission: {
    jobs: [
      { language: "python", source: "print(input()[::-1])", stdin: "hello\n" },
      { language: "bash", source: "echo $((6 * 7))" },
    ],
  },
  BatchAccepted: { id: batchId, total: 2 },
  BatchView: {
    id: batchId,
    status: "running",
    total: 2,
    counts: { queued: 1, running: 0, completed: 1, failed: 0, cancelled: 0 },
    createdAt: "2026-12-02T11:05:00.000Z",
    jobs: [
      { index: 0, id: jobId, status: "completed", batchId, result: { ...result, language: "python" } },
      { index: 1, id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", status: "queued", batchId },
    ],
    offset: 0,
    limit: 100,
  },
  BatchCancelled: { id: batchId, cancelled: 1 },
  LanguageList: [python],
  WorkerList: [worker],
  Health: { status: "ok" },
  Readiness: { status: "ready", checks: { redis: true, workers: 1, sandboxSelfCheck: true } },
  ErrorBody: {
    error: {
      code: "E_VALIDATION",
      message: "invalid request: language: Required",
      details: [{ field: "language", message: "Required" }],
    },
  },
};

/** What the registry's message templates are filled with in the error examples. */
export const exampleArgs: Partial<Record<ErrorCode, string>> = {
  E_VALIDATION: "language: Required",
  E_UNKNOWN_LANGUAGE: "cobolt",
  E_BODY_TOO_LARGE: "1048576",
  E_UNSUPPORTED_MEDIA_TYPE: "text/plain",
  E_RATE_LIMITED: "600",
  E_QUEUE_FULL: "100000",
  E_IDEMPOTENCY_MISMATCH: "sub-42",
  E_JOB_NOT_FOUND: jobId,
  E_JOB_FINISHED: jobId,
  E_BATCH_NOT_FOUND: batchId,
  E_NOT_READY: "no worker with a passing sandbox self-check seen recently",
};
