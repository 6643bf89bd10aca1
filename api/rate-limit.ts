import type { NextFunction, Request, Response } from "express";
import type { Redis } from "ioredis";
import { ServiceError } from "../contract/errors.ts";
import { redisKeys } from "../contract/queue.ts";
import { callerOf } from "./auth.ts";

// Requests per minute per API key: a fixed one-minute window counted in Redis (INCR + PEXPIRE), so
// every API process shares the count. Fixed windows allow a burst of up to 2× at a boundary; that
// is the usual trade for one round trip per request. Every limited response carries
//   RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (seconds until the window ends)
//   RateLimit-Policy: <limit>;w=60
// (IETF draft-ietf-httpapi-ratelimit-headers), and a refused one 429 + Retry-After.

const WINDOW_MS = 60_000;

/** Counts one request of keyId in the current window: how many it has used, and when the window ends. */
export async function countRequest(redis: Redis, prefix: string, keyId: string) {
  const now = Date.now();
  const windowStartMs = now - (now % WINDOW_MS);
  const key = redisKeys(prefix).rateWindow(keyId, windowStartMs);
  const replies = await redis
    .multi()
    .incr(key)
    .pexpire(key, WINDOW_MS * 2)
    .exec();
  const used = Number(replies?.[0]?.[1] ?? 0);
  return { used, resetS: Math.max(1, Math.ceil((windowStartMs + WINDOW_MS - now) / 1000)) };
}

export function rateLimit(redis: Redis, prefix: string) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const caller = res.locals.caller ? callerOf(res) : null;
    const limit = caller?.limits.requestsPerMinute ?? 0;
    if (!caller || limit === 0) return next();
    const { used, resetS } = await countRequest(redis, prefix, caller.keyId);
    res.set({
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(Math.max(0, limit - used)),
      "RateLimit-Reset": String(resetS),
      "RateLimit-Policy": `${limit};w=60`,
    });
    if (used > limit) {
      throw new ServiceError(
        "E_RATE_LIMITED",
        String(limit),
        { limit, resetS },
        { "Retry-After": String(resetS) },
      );
    }
    next();
  };
}
