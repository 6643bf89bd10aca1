import { readFileSync } from "node:fs";
import path from "node:path";
import {
  extendZodWithOpenApi,
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
} from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { type ErrorCode, ServiceError } from "../contract/errors.ts";
import { exampleArgs, examples } from "./openapi-examples.ts";
import { type DocumentSchemaName, documentSchemas } from "./openapi-schemas.ts";
import { BatchPageQuerySchema } from "./routes-batches.ts";

// The OpenAPI 3.1 description of our own API (GET /openapi.json), generated from the contract's
// zod schemas by @asteasolutions/zod-to-openapi: the schemas the routes parse with are the schemas
// the document shows, so the two cannot drift. Only what zod cannot say is written here: paths,
// parameters, status codes, headers and prose. The compatibility APIs (/judge0, /api/v2) are not
// described: their clients follow those projects' own documentation.
//
// zod-to-openapi needs `.openapi()` on zod's prototype; extending is idempotent and adds one
// method, so the contract's schemas stay plain zod everywhere else.

extendZodWithOpenApi(z);

const packageVersion = (
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../package.json"), "utf8")) as {
    version: string;
  }
).version;

const description = `Sandboxed code execution: post a program (and optionally its tests); every compile and run
step executes in a fresh, isolated Linux container, and you get a verdict per step with output, exit
code, signal, CPU time, wall time and peak memory.

**Errors** are \`{"error":{"code":"E_…","message":"…","details":…}}\` with a stable \`code\`; bad
input is always a 4xx naming the field, never a 5xx.

**Keys**: when the operator has API keys, send \`Authorization: Bearer <key>\` or \`X-API-Key: <key>\`
(all routes but the probes, \`/metrics\`, the pages and this description). Every keyed response
carries \`RateLimit-Limit\`, \`RateLimit-Remaining\`, \`RateLimit-Reset\` and \`RateLimit-Policy\`;
429 and 503 carry \`Retry-After\` (seconds).

The Judge0 CE (\`/judge0\`) and Piston v2 (\`/api/v2\`) compatibility APIs are not described here;
see the README.`;

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  const ref = {} as { [K in DocumentSchemaName]: z.ZodTypeAny };
  for (const [name, schema] of Object.entries(documentSchemas)) {
    ref[name as DocumentSchemaName] = registry.register(name, schema as z.ZodTypeAny);
  }
  const bearer = registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key as a bearer token (only when the operator has configured keys).",
  });
  const apiKey = registry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  const keyed = [{ [bearer.name]: [] }, { [apiKey.name]: [] }, {}];

  const json = (
    name: DocumentSchemaName,
    description: string,
    headers?: ResponseConfig["headers"],
    example: unknown = examples[name],
  ) =>
    ({
      description,
      ...(headers ? { headers } : {}),
      content: { "application/json": { schema: ref[name], ...(example ? { example } : {}) } },
    }) satisfies ResponseConfig;
  /** An error response; its example is the registry's own message for the first code. */
  const error = (
    codes: [ErrorCode, ...ErrorCode[]],
    description: string,
    headers?: ResponseConfig["headers"],
  ) =>
    json(
      "ErrorBody",
      `${codes.map((code) => `\`${code}\``).join(", ")}: ${description}`,
      headers,
      new ServiceError(codes[0], exampleArgs[codes[0]] ?? "").toBody(),
    );
  const retryAfter = {
    "Retry-After": { description: "seconds to wait", schema: { type: "integer" as const } },
  };
  const location = { Location: { description: "where to read it", schema: { type: "string" as const } } };
  const body = (name: DocumentSchemaName) => ({
    required: true,
    content: { "application/json": { schema: ref[name], example: examples[name] } },
  });
  const submissionErrors = {
    400: error(
      [
        "E_VALIDATION",
        "E_UNKNOWN_LANGUAGE",
        "E_MISSING_ENTRY_FILE",
        "E_LIMIT_ABOVE_CEILING",
        "E_INVALID_JSON",
        "E_CALLBACK_FORBIDDEN",
      ],
      "invalid body; the message and `details` name the field",
    ),
    401: error(["E_UNAUTHORIZED"], "keys are configured and none (or an unknown one) was sent"),
    413: error(["E_BODY_TOO_LARGE"], "the body is above BODY_LIMIT_BYTES"),
    415: error(["E_UNSUPPORTED_MEDIA_TYPE"], "send application/json"),
    429: error(
      ["E_RATE_LIMITED", "E_QUOTA_EXCEEDED"],
      "too many requests or queued jobs for this key",
      retryAfter,
    ),
    503: error(["E_QUEUE_FULL"], "too many jobs waiting", retryAfter),
  };
  const lookupErrors = {
    401: error(["E_UNAUTHORIZED"], "keys are configured and none (or an unknown one) was sent"),
    429: error(["E_RATE_LIMITED"], "too many requests for this key", retryAfter),
  };
  const jobId = z.object({ id: z.string().openapi({ description: "job id (a UUID)" }) });
  const batchId = z.object({ id: z.string().openapi({ description: "batch id (a UUID)" }) });

  registry.registerPath({
    method: "post",
    path: "/run",
    tags: ["jobs"],
    summary: "Run a job and wait for its result",
    description:
      "Enqueues at interactive priority (ahead of /jobs and batches) and waits up to `waitMs` for the result.",
    security: keyed,
    request: {
      query: z.object({
        waitMs: z.coerce.number().int().nonnegative().optional().openapi({
          description: "how long to wait (default RUN_WAIT_DEFAULT_MS, at most RUN_WAIT_MAX_MS)",
        }),
        stream: z.literal("1").optional().openapi({
          description:
            "answer with the job's events as Server-Sent Events (`text/event-stream`, as GET /jobs/{id}/events) instead of waiting",
        }),
      }),
      body: body("JobSubmission"),
    },
    responses: {
      200: json(
        "RunAnswer",
        "the job finished: its result (any verdict), or its view (`status` failed or cancelled)",
        undefined,
        examples.JobResult,
      ),
      202: json("RunPending", "still queued or running after waitMs: follow `Location`", location),
      ...submissionErrors,
    },
  });
  registry.registerPath({
    method: "post",
    path: "/jobs",
    tags: ["jobs"],
    summary: "Submit a job",
    description: "Enqueues at batch priority and answers at once.",
    security: keyed,
    request: {
      headers: z.object({
        "Idempotency-Key": z.string().optional().openapi({
          description: "retries with the same key return the same job; a different body is 422",
        }),
      }),
      body: body("JobSubmission"),
    },
    responses: {
      202: json("JobAccepted", "queued", location),
      ...submissionErrors,
      422: error(["E_IDEMPOTENCY_MISMATCH"], "the key was used with a different body"),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs/{id}",
    tags: ["jobs"],
    summary: "A job's status and result",
    security: keyed,
    request: { params: jobId },
    responses: {
      200: json("JobView", "the job"),
      404: error(["E_JOB_NOT_FOUND"], "unknown, another key's, or expired"),
      ...lookupErrors,
    },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs/{id}/events",
    tags: ["jobs"],
    summary: "A job's events as Server-Sent Events",
    description:
      "queued, started, per step: started, output pieces (stdout/stderr with byte offsets), finished; then " +
      "job.finished or job.failed, after which the stream ends. Each event is `id:` (resume with " +
      "`Last-Event-ID` or `?lastEventId=`), `event:` (its type) and `data:` (the event as JSON, " +
      "contract/job-events.ts). A finished job replays its events. Interactive runs use the WebSocket `/ws` " +
      "(README, Live runs).",
    security: keyed,
    request: {
      params: jobId,
      query: z.object({
        lastEventId: z.string().optional().openapi({ description: "as the Last-Event-ID header" }),
      }),
    },
    responses: {
      200: {
        description: "the event stream",
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
      400: error(["E_VALIDATION"], "Last-Event-ID is not an id this stream sent"),
      404: error(["E_JOB_NOT_FOUND"], "unknown, another key's, or expired"),
      429: error(["E_TOO_MANY_STREAMS", "E_RATE_LIMITED"], "too many open streams or requests for this key"),
      401: error(["E_UNAUTHORIZED"], "keys are configured and none (or an unknown one) was sent"),
    },
  });
  registry.registerPath({
    method: "delete",
    path: "/jobs/{id}",
    tags: ["jobs"],
    summary: "Cancel a job",
    description: "A queued job is removed; a running one has its container killed.",
    security: keyed,
    request: { params: jobId },
    responses: {
      200: json("JobView", "cancelled (`status: cancelled`)"),
      404: error(["E_JOB_NOT_FOUND"], "unknown, another key's, or expired"),
      409: error(["E_JOB_FINISHED"], "it had already finished"),
      ...lookupErrors,
    },
  });
  registry.registerPath({
    method: "post",
    path: "/batches",
    tags: ["batches"],
    summary: "Submit a batch of jobs",
    description: "Up to MAX_BATCH_JOBS job requests; a bad one is a 400 naming it (`jobs[17].language`).",
    security: keyed,
    request: { body: body("BatchSubmission") },
    responses: {
      202: json("BatchAccepted", "queued", location),
      ...submissionErrors,
    },
  });
  registry.registerPath({
    method: "get",
    path: "/batches/{id}",
    tags: ["batches"],
    summary: "A batch's counts and one page of its jobs",
    security: keyed,
    request: { params: batchId, query: BatchPageQuerySchema },
    responses: {
      200: json("BatchView", "the batch"),
      400: error(["E_VALIDATION"], "bad offset or limit"),
      404: error(["E_BATCH_NOT_FOUND"], "unknown, another key's, or expired"),
      ...lookupErrors,
    },
  });
  registry.registerPath({
    method: "delete",
    path: "/batches/{id}",
    tags: ["batches"],
    summary: "Cancel every unfinished job of a batch",
    security: keyed,
    request: { params: batchId },
    responses: {
      200: json("BatchCancelled", "the jobs cancelled"),
      404: error(["E_BATCH_NOT_FOUND"], "unknown, another key's, or expired"),
      ...lookupErrors,
    },
  });
  registry.registerPath({
    method: "get",
    path: "/languages",
    tags: ["service"],
    summary: "Languages the workers run, with versions and default limits",
    security: keyed,
    responses: { 200: json("LanguageList", "the languages"), ...lookupErrors },
  });
  registry.registerPath({
    method: "get",
    path: "/workers",
    tags: ["service"],
    summary: "Live workers",
    security: keyed,
    responses: { 200: json("WorkerList", "workers that sent a heartbeat recently"), ...lookupErrors },
  });
  registry.registerPath({
    method: "get",
    path: "/status.json",
    tags: ["service"],
    summary: "What the operations page draws",
    security: keyed,
    responses: { 200: json("StatusView", "workers, queue and the last 15 minutes"), ...lookupErrors },
  });
  const text = (description: string, type: string) => ({
    description,
    content: { [type]: { schema: { type: "string" as const } } },
  });
  registry.registerPath({
    method: "get",
    path: "/metrics",
    tags: ["probes"],
    summary: "Prometheus metrics (no key needed)",
    responses: { 200: text("Prometheus text format", "text/plain") },
  });
  registry.registerPath({
    method: "get",
    path: "/healthz",
    tags: ["probes"],
    summary: "The process is alive",
    responses: { 200: json("Health", "alive") },
  });
  registry.registerPath({
    method: "get",
    path: "/readyz",
    tags: ["probes"],
    summary: "Redis reachable and a worker with a passing sandbox self-check seen recently",
    responses: {
      200: json("Readiness", "ready"),
      503: error(["E_NOT_READY"], "not ready; `details` holds the checks"),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/openapi.json",
    tags: ["docs"],
    summary: "This document",
    responses: { 200: text("OpenAPI 3.1", "application/json") },
  });
  for (const [page, summary] of [
    ["/docs", "The API reference (this document, rendered)"],
    ["/", "The playground"],
    ["/status", "The operations page"],
  ] as const) {
    registry.registerPath({
      method: "get",
      path: page,
      tags: ["pages"],
      summary,
      responses: { 200: text("HTML; works offline, loads nothing from other origins", "text/html") },
    });
  }
  return registry;
}

/**
 * zod-to-openapi 7 writes a nullable enum as `{type: ["string", "null"], enum: [...]}` without
 * null among the values, which JSON Schema reads as "never null" (`stopReason: null` would not
 * validate). Adds the null; test/api/openapi.test.ts validates every example with Ajv to hold it.
 */
function allowNullInNullableEnums(node: unknown): void {
  if (typeof node !== "object" || node === null) return;
  const schema = node as { type?: unknown; enum?: unknown[] };
  if (
    Array.isArray(schema.type) &&
    schema.type.includes("null") &&
    schema.enum &&
    !schema.enum.includes(null)
  ) {
    schema.enum.push(null);
  }
  for (const child of Object.values(node)) allowNullInNullableEnums(child);
}

let built: object | null = null;

/** The document, generated once per process. */
export function openApiDocument(): object {
  if (built) return built;
  built = new OpenApiGeneratorV31(buildRegistry().definitions).generateDocument({
    openapi: "3.1.0",
    info: { title: "cellblock", version: packageVersion, description },
    servers: [{ url: "/" }],
    tags: [
      { name: "jobs", description: "Run one program, with or without tests" },
      { name: "batches", description: "Many jobs at once, with progress counts" },
      { name: "service", description: "Languages, workers, status" },
      { name: "probes", description: "Health, readiness, metrics (no key needed)" },
      { name: "docs", description: "This description" },
      { name: "pages", description: "The web pages" },
    ],
  });
  allowNullInNullableEnums(built);
  return built;
}
