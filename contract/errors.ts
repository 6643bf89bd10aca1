// The error registry (after fastify's lib/errors.js): every error the API returns has a stable code,
// one HTTP status and a message template. Clients branch on `code`; messages are for humans and
// always name the field or object involved.

type Template = (arg: string) => string;

interface ErrorDefinition {
  status: number;
  message: Template;
}

const define = (status: number, message: Template): ErrorDefinition => ({ status, message });

export const errorRegistry = {
  E_INVALID_JSON: define(400, (why) => `request body is not valid JSON: ${why}`),
  E_BAD_REQUEST: define(400, (why) => `malformed HTTP request: ${why}`),
  E_VALIDATION: define(400, (what) => `invalid request: ${what}`),
  E_UNKNOWN_LANGUAGE: define(400, (id) => `language: unknown language "${id}" (see GET /languages)`),
  E_MISSING_ENTRY_FILE: define(400, (file) => `files: must contain the language's entry file "${file}"`),
  E_LIMIT_ABOVE_CEILING: define(400, (what) => `${what} (limits above the operator's ceiling are rejected)`),
  E_UNAUTHORIZED: define(
    401,
    () => "missing or unknown API key (send Authorization: Bearer <key> or X-API-Key)",
  ),
  E_CALLBACK_FORBIDDEN: define(400, (what) => `callbackUrl: ${what} (blocked by the webhook address policy)`),
  E_BATCH_TOO_LARGE: define(400, (max) => `jobs: a batch holds at most ${max} job requests`),
  E_FORBIDDEN: define(403, (what) => `forbidden: ${what}`),
  E_NOT_FOUND: define(404, (route) => `no route ${route}`),
  E_JOB_NOT_FOUND: define(404, (id) => `job ${id} not found (unknown, or its result has expired)`),
  E_BATCH_NOT_FOUND: define(404, (id) => `batch ${id} not found (unknown, or expired)`),
  E_JOB_FINISHED: define(409, (id) => `job ${id} has already finished and cannot be cancelled`),
  E_REQUEST_TIMEOUT: define(408, (ms) => `request not received in time (${ms} ms); the connection is closed`),
  E_BODY_TOO_LARGE: define(413, (limit) => `request body is larger than ${limit} bytes`),
  E_UNSUPPORTED_MEDIA_TYPE: define(
    415,
    (type) => `content type "${type}" is not supported; send application/json`,
  ),
  E_EXPECTATION_FAILED: define(417, (what) => `Expect: ${what} is not supported`),
  E_IDEMPOTENCY_MISMATCH: define(
    422,
    (key) => `Idempotency-Key "${key}" was already used with a different request body`,
  ),
  E_HEADERS_TOO_LARGE: define(431, (limit) => `request line and headers are larger than ${limit} bytes`),
  E_RATE_LIMITED: define(
    429,
    (limit) => `rate limit of ${limit} requests per minute for this API key exceeded; see Retry-After`,
  ),
  E_QUOTA_EXCEEDED: define(429, (what) => `quota exceeded: ${what}; see Retry-After`),
  E_TOO_MANY_STREAMS: define(
    429,
    (limit) => `this API key already has ${limit} event streams open (LIVE_STREAMS_PER_KEY); close one first`,
  ),
  E_QUEUE_FULL: define(503, (depth) => `queue is full (${depth} jobs waiting); retry later`),
  E_NOT_READY: define(503, (why) => `not ready: ${why}`),
  E_INTERNAL: define(500, () => "internal error"),
} as const;

export type ErrorCode = keyof typeof errorRegistry;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error meant for the client: code, HTTP status and message come from the registry. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, arg = "", details?: unknown, headers: Record<string, string> = {}) {
    const definition = errorRegistry[code];
    super(definition.message(arg));
    this.name = "ServiceError";
    this.code = code;
    this.status = definition.status;
    this.details = details;
    this.headers = headers;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }
}
