import cors from "cors";
import express, { type NextFunction, type Request, type Response, Router } from "express";
import type { AppDeps } from "../app-deps.ts";
import { presentedKey } from "../auth.ts";
import { rateLimit } from "../rate-limit.ts";
import { Judge0Error, judge0ErrorHandler, judge0NotFound } from "./judge0-errors.ts";
import { infoRoutes } from "./routes-info.ts";
import { submissionRoutes } from "./routes-submissions.ts";
import { SubmissionCallbacks } from "./submission-callbacks.ts";
import { SubmissionStore } from "./submission-store.ts";

// The Judge0 CE 1.13.1 API, mounted at /judge0 (clients take a base URL). In order: CORS (open,
// as Judge0's default; browsers such as the Judge0 IDE call it cross-origin, so preflights are
// answered before any key is asked for) → caller → per-key rate limit → body (JSON, or a form as
// Rails also reads; anything else is an empty body, which Judge0 answers with its 422) → routes →
// Judge0's error shapes. Everything below the edge is the ordinary job path.

/**
 * Judge0's keys, mapped onto ours: X-Auth-Token (header, or the query parameter of that name),
 * X-Auth-User, then our own Authorization: Bearer / X-API-Key — the first that names a key of
 * ours is the caller. Without any key configured every caller is the anonymous one (as Judge0
 * without AUTHN_TOKEN ignores the header; hosted clients' X-RapidAPI-Key and the like are ignored
 * too). A request without a good key is Judge0's 401 with an empty body. /authorize checks
 * X-Auth-User alone and answers 403, as Judge0 does.
 */
function judge0Authenticate({ directory }: Pick<AppDeps, "directory">) {
  const resolveFirst = async (candidates: (string | undefined)[]) => {
    for (const key of candidates) {
      if (!key) continue;
      const caller = await directory.resolve(key);
      if (caller) return caller;
    }
    return null;
  };
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!(await directory.keysRequired())) {
      res.locals.caller = directory.anonymous();
      return next();
    }
    if (req.path === "/authorize") {
      const caller = await resolveFirst([req.get("x-auth-user")]);
      if (!caller) throw new Judge0Error(403, null);
      res.locals.caller = caller;
      return next();
    }
    const tokenParam = req.query["X-Auth-Token"];
    const caller = await resolveFirst([
      req.get("x-auth-token"),
      typeof tokenParam === "string" ? tokenParam : undefined,
      req.get("x-auth-user"),
      presentedKey(req),
    ]);
    if (!caller) throw new Judge0Error(401, null);
    res.locals.caller = caller;
    next();
  };
}

export function judge0Router(deps: AppDeps): Router {
  const { config, redis, logger } = deps;
  const router = Router();
  const store = new SubmissionStore(redis, config.queue.QUEUE_PREFIX, config.queue.RESULT_TTL_S);
  const callbacks = new SubmissionCallbacks(deps, logger);
  const jsonTypes = ["application/json", "application/*+json"];

  router.use(cors());
  router.use(judge0Authenticate(deps));
  router.use(rateLimit(redis, config.queue.QUEUE_PREFIX));
  router.use(
    "/submissions/batch",
    express.json({ limit: config.api.BATCH_BODY_LIMIT_BYTES, strict: true, type: jsonTypes }),
  );
  router.use(express.json({ limit: config.api.BODY_LIMIT_BYTES, strict: true, type: jsonTypes }));
  router.use(express.urlencoded({ limit: config.api.BODY_LIMIT_BYTES, extended: false }));
  router.use(submissionRoutes(deps, store, callbacks));
  router.use(infoRoutes(deps));
  router.use(judge0NotFound);
  router.use(judge0ErrorHandler(logger));
  return router;
}
