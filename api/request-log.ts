import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";

// One log line per request: method, path, status, duration. Never the body, query values or
// headers — sources, stdin and API keys must not reach the logs.

export function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        "request",
      );
    });
    next();
  };
}
