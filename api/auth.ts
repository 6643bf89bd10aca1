import type { NextFunction, Request, Response } from "express";
import { ServiceError } from "../contract/errors.ts";
import type { Caller, KeyDirectory } from "./api-keys.ts";

// Authentication: `Authorization: Bearer <key>` or `X-API-Key: <key>` → res.locals.caller.
// Probes and /metrics stay open (load balancers and Prometheus carry no key; /metrics holds only
// counts). /admin has its own guard (admin-view.ts); the web pages (web-pages.ts) come before this
// and hold no data. Without any key configured every caller is
// the anonymous one — start-api.ts refuses to listen beyond loopback in that mode.

const openPaths = new Set(["/healthz", "/readyz", "/metrics"]);

export function presentedKey(req: Request): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "")?.[1];
  return bearer ?? req.get("x-api-key") ?? undefined;
}

export function authenticate(directory: KeyDirectory) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (openPaths.has(req.path) || req.path.startsWith("/admin/")) return next();
    const key = presentedKey(req);
    if (key === undefined) {
      if (await directory.keysRequired()) throw new ServiceError("E_UNAUTHORIZED");
      res.locals.caller = directory.anonymous();
      return next();
    }
    const caller = await directory.resolve(key);
    if (!caller) throw new ServiceError("E_UNAUTHORIZED");
    res.locals.caller = caller;
    next();
  };
}

export function callerOf(res: Response): Caller {
  return res.locals.caller as Caller;
}
