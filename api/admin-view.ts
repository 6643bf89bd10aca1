import { timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { NextFunction, Request, Response, Router } from "express";
import { ServiceError } from "../contract/errors.ts";
import { keyDigest } from "./api-key-store.ts";
import { presentedKey } from "./auth.ts";

// The queue dashboard (bull-board) at /admin/queues, behind ADMIN_API_KEY. The key is accepted as
// a Bearer token / X-API-Key (scripts) or as the password of HTTP Basic auth (browsers, which
// prompt for it on the 401's WWW-Authenticate). No key sent → 401; a wrong one, or no
// ADMIN_API_KEY configured → 403. bull-board can retry, promote and remove jobs: it is an operator
// tool, never exposed to API keys.

export const ADMIN_BASE_PATH = "/admin/queues";

function basicPassword(req: Request): string | undefined {
  const encoded = /^Basic\s+(.+)$/i.exec(req.get("authorization") ?? "")?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
}

export function requireAdminKey(adminKey: string | undefined) {
  const expected = adminKey ? Buffer.from(keyDigest(adminKey), "hex") : null;
  return (req: Request, res: Response, next: NextFunction) => {
    const given = basicPassword(req) ?? presentedKey(req);
    if (given === undefined) {
      res.set("WWW-Authenticate", 'Basic realm="cellblock admin"');
      throw new ServiceError("E_UNAUTHORIZED");
    }
    const digest = Buffer.from(keyDigest(given), "hex");
    if (!expected || !timingSafeEqual(digest, expected)) {
      throw new ServiceError(
        "E_FORBIDDEN",
        expected ? "not the admin key" : "the admin view is off (set ADMIN_API_KEY)",
      );
    }
    next();
  };
}

export function adminRouter(queues: Queue[]): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(ADMIN_BASE_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter: adapter });
  return adapter.getRouter() as Router;
}
