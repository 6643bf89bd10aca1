import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";

// One log line per request: request id, method, path, status, duration, API key id. Never the
// body, query values or headers — sources, stdin and API keys must not reach the logs. The request
// id is the client's X-Request-Id when it is a sane token, else a new UUID; it is echoed back and
// handlers log with it (res.locals.log), so a job's submission and its worker lines can be joined
// through the job id that the submission logs.

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const given = req.get("x-request-id");
    const reqId = given && requestIdPattern.test(given) ? given : randomUUID();
    res.set("X-Request-Id", reqId);
    res.locals.log = logger.child({ reqId });
    res.on("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      (res.locals.log as Logger).info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          keyId: res.locals.caller?.keyId,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        "request",
      );
    });
    next();
  };
}
