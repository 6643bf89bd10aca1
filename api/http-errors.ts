import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { ServiceError } from "../contract/errors.ts";

// Turns every failure into the contract's error body. Body-parser failures are client errors with
// their own codes; anything unexpected is logged and answered 500 without details.

/** POST bodies must be JSON; checked before parsing so the client gets 415, not a confusing 400. */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction) {
  if (req.method === "POST" && !req.is("application/json")) {
    return next(new ServiceError("E_UNSUPPORTED_MEDIA_TYPE", req.get("content-type") ?? "(none)"));
  }
  next();
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

/** A body-parser failure as the ServiceError it means, or null for anything else. */
export function fromBodyParser(error: BodyParserError, req: Request): ServiceError | null {
  switch (error.type) {
    case "entity.too.large":
      return new ServiceError("E_BODY_TOO_LARGE", String(error.limit ?? ""));
    case "entity.parse.failed":
      return new ServiceError("E_INVALID_JSON", error.message);
    case "encoding.unsupported":
    case "charset.unsupported":
      return new ServiceError("E_UNSUPPORTED_MEDIA_TYPE", req.get("content-type") ?? "");
    default:
      if (error.status && error.status >= 400 && error.status < 500) {
        return new ServiceError("E_INVALID_JSON", error.message);
      }
      return null;
  }
}

export function notFound(req: Request, _res: Response, next: NextFunction) {
  next(new ServiceError("E_NOT_FOUND", `${req.method} ${req.path}`));
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known =
      error instanceof ServiceError
        ? error
        : error instanceof Error
          ? fromBodyParser(error as BodyParserError, req)
          : null;
    const serviceError = known ?? new ServiceError("E_INTERNAL");
    if (!known) logger.error({ err: error, method: req.method, path: req.path }, "unhandled error");
    res.status(serviceError.status).set(serviceError.headers).json(serviceError.toBody());
  };
}
