import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import { ServiceError } from "../contract/errors.ts";

// API keys (API_KEYS): `Authorization: Bearer <key>` or `X-API-Key: <key>`. Keys are compared as
// SHA-256 digests with timingSafeEqual so neither length nor prefix leaks through timing.
// Health probes stay open so load balancers need no key.

const openPaths = new Set(["/healthz", "/readyz"]);
const digest = (key: string) => createHash("sha256").update(key).digest();

export function requireApiKey(keys: readonly string[]) {
  const digests = keys.map(digest);
  return (req: Request, _res: Response, next: NextFunction) => {
    if (digests.length === 0 || openPaths.has(req.path)) return next();
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "")?.[1];
    const presented = bearer ?? req.get("x-api-key");
    if (presented) {
      const candidate = digest(presented);
      if (digests.some((d) => timingSafeEqual(d, candidate))) return next();
    }
    next(new ServiceError("E_UNAUTHORIZED"));
  };
}
