import type { ErrorCode } from "../contract/errors.ts";
import type { JobView } from "../contract/job-result.ts";

// What the client throws. Callers branch on `code` (the service's stable error registry,
// contract/errors.ts) or on the class; messages are the service's own and name the field.

/** Base class of everything this client throws on purpose. */
export class CellblockError extends Error {
  override name = "CellblockError";
}

/** The service answered with its error body: `{"error":{"code","message","details"}}`. */
export class CellblockApiError extends CellblockError {
  override name = "CellblockApiError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** HTTP status of the answer. */
    readonly status: number,
    /** Validation errors: `[{field, message}]`; others: an object naming the field, or undefined. */
    readonly details: unknown,
    /** Seconds the service asked to wait (429, 503), when it said. */
    readonly retryAfterS: number | null,
  ) {
    super(`${code}: ${message}`);
  }
}

/** No answer the client can use: the connection failed, or the body was not the service's JSON. */
export class CellblockTransportError extends CellblockError {
  override name = "CellblockTransportError";
}

/** `wait()` gave up before the job finished (the job itself goes on; cancel it if needed). */
export class CellblockTimeoutError extends CellblockError {
  override name = "CellblockTimeoutError";
  constructor(
    readonly id: string,
    readonly waitedMs: number,
  ) {
    super(`job ${id} has not finished after ${waitedMs} ms`);
  }
}

/** `run()` asked for a result, but the job failed (the queue gave up on it) or was cancelled. */
export class CellblockJobError extends CellblockError {
  override name = "CellblockJobError";
  constructor(readonly view: JobView) {
    super(`job ${view.id} ${view.status}${view.error ? `: ${view.error.code}: ${view.error.message}` : ""}`);
  }
}
