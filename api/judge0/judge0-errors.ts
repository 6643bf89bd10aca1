import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { ServiceError } from "../../contract/errors.ts";
import { fromBodyParser } from "../http-errors.ts";
import type { FieldProblem } from "../validate-request.ts";

// Judge0's error shapes: a failed validation is 422 {"field":["message", …]} (Rails' errors
// hash); anything else is {"error":"message"} with 400, 401 (empty body), 404, 429 or 503. Our own
// ServiceErrors (rate limit, quota, queue full, body parser) are translated here, so a Judge0
// client never sees cellblock's {"error":{"code":…}} shape.

/** Field → messages, in Rails' order of discovery. */
export type FieldErrors = Record<string, string[]>;

export class Judge0Error extends Error {
  constructor(
    readonly status: number,
    /** The JSON body, or null for an empty one (Judge0's 401). */
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === "object" && body !== null ? JSON.stringify(body) : `HTTP ${status}`);
    this.name = "Judge0Error";
  }

  static plain(status: number, message: string, headers: Record<string, string> = {}): Judge0Error {
    return new Judge0Error(status, { error: message }, headers);
  }

  static invalid(errors: FieldErrors): Judge0Error {
    return new Judge0Error(422, errors);
  }
}

export function addFieldError(errors: FieldErrors, field: string, message: string): void {
  const list = errors[field] ?? [];
  list.push(message);
  errors[field] = list;
}

/** Our field problems (dotted paths) as Judge0 field errors keyed by the top-level field. */
export function fieldErrorsOf(
  problems: readonly FieldProblem[],
  rename: Record<string, string> = {},
): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const top = problem.field.split(".")[0] ?? problem.field;
    addFieldError(errors, rename[top] ?? top, problem.message);
  }
  return errors;
}

/** What a cellblock ServiceError means to a Judge0 client. */
export function judge0ErrorOf(error: ServiceError): Judge0Error {
  switch (error.code) {
    case "E_UNAUTHORIZED":
      return new Judge0Error(401, null);
    case "E_QUEUE_FULL":
      return Judge0Error.plain(503, "queue is full", error.headers);
    case "E_VALIDATION":
    case "E_UNKNOWN_LANGUAGE":
    case "E_MISSING_ENTRY_FILE":
    case "E_LIMIT_ABOVE_CEILING":
    case "E_CALLBACK_FORBIDDEN": {
      const problems = Array.isArray(error.details)
        ? (error.details as FieldProblem[])
        : [{ field: String((error.details as { field?: string })?.field ?? "base"), message: error.message }];
      return Judge0Error.invalid(
        fieldErrorsOf(problems, {
          files: "additional_files",
          limits: "base",
          language: "language_id",
          args: "command_line_arguments",
          tests: "number_of_runs",
          stdin: "stdin",
        }),
      );
    }
    default:
      return Judge0Error.plain(error.status, error.message, error.headers);
  }
}

export function judge0NotFound(req: Request, _res: Response, next: NextFunction) {
  next(Judge0Error.plain(404, `no route ${req.method} ${req.originalUrl.split("?")[0]}`));
}

export function judge0ErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let known: Judge0Error | null = error instanceof Judge0Error ? error : null;
    if (!known) {
      const service =
        error instanceof ServiceError
          ? error
          : error instanceof Error
            ? fromBodyParser(error as Parameters<typeof fromBodyParser>[0], req)
            : null;
      if (service) known = judge0ErrorOf(service);
    }
    if (!known) {
      logger.error(
        { err: error, method: req.method, path: `${req.baseUrl}${req.path}` },
        "unhandled error (judge0)",
      );
      known = Judge0Error.plain(500, "internal error");
    }
    res.status(known.status).set(known.headers);
    if (known.body === null) res.end();
    else res.json(known.body);
  };
}
