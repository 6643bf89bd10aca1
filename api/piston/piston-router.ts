import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type Response,
  Router,
} from "express";
import type { Logger } from "pino";
import { ServiceError } from "../../contract/errors.ts";
import { isFinalStatus } from "../../contract/job-status.ts";
import { lowerCeilings, resolveCompileLimits } from "../../contract/resolve-limits.ts";
import type { AppDeps } from "../app-deps.ts";
import { callerOf, presentedKey } from "../auth.ts";
import { fromBodyParser } from "../http-errors.ts";
import { rateLimit } from "../rate-limit.ts";
import { validateJobRequest } from "../validate-request.ts";
import { PistonError, parseExecute, pistonAnswer, pistonFailure } from "./piston-execute.ts";
import { listPistonRuntimes, resolveRuntime, runtimeView } from "./piston-runtimes.ts";

// The Piston v2 API (engineer-man/piston, API 3.1.1), mounted at /api/v2 and at /api/v2/piston
// (the old public instance's prefix, which clients hard-code). In order: caller → per-key rate
// limit → body, read as JSON whatever its content type says (piston-client sends text/plain) →
// routes → Piston's error shape {"message"}. An execute is an ordinary job in the interactive
// band; the answer waits for it, as Piston's does.

function pistonAuthenticate({ directory }: Pick<AppDeps, "directory">) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!(await directory.keysRequired())) {
      res.locals.caller = directory.anonymous();
      return next();
    }
    // Our Bearer / X-API-Key, or the bare key in Authorization as the public Piston API takes it.
    for (const key of [presentedKey(req), req.get("authorization")]) {
      const caller = key ? await directory.resolve(key) : null;
      if (caller) {
        res.locals.caller = caller;
        return next();
      }
    }
    throw new PistonError(401, "missing or unknown API key (send Authorization: <key>)");
  };
}

function pistonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const service =
      error instanceof ServiceError
        ? error
        : error instanceof Error && !(error instanceof PistonError)
          ? fromBodyParser(error as Parameters<typeof fromBodyParser>[0], req)
          : null;
    const known =
      error instanceof PistonError
        ? error
        : service
          ? new PistonError(service.status, service.message, service.headers)
          : null;
    if (!known)
      logger.error(
        { err: error, method: req.method, path: `${req.baseUrl}${req.path}` },
        "unhandled error (piston)",
      );
    const answer = known ?? new PistonError(500, "internal error");
    res.status(answer.status).set(answer.headers).json({ message: answer.message });
  };
}

/** The body as JSON: an object parsed by express.text, or nothing. */
function jsonBody(req: Request): unknown {
  const raw = typeof req.body === "string" ? req.body : "";
  if (raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new PistonError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

const IMAGES_NOTE = "language images are built on the server with `npm run images:build`";

export function pistonRouter(deps: AppDeps): Router {
  const { config, redis, logger, jobs, languages } = deps;
  const router = Router();
  router.use(pistonAuthenticate(deps));
  router.use(rateLimit(redis, config.queue.QUEUE_PREFIX));
  router.use(express.text({ type: () => true, limit: config.api.BODY_LIMIT_BYTES }));

  router.get("/runtimes", async (_req, res) => {
    res.json((await listPistonRuntimes(languages)).map(runtimeView));
  });

  router.post("/execute", async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const ceilings = lowerCeilings(config.limits.ceilings, caller.limits.ceilings);
    const { runtime, request: input } = parseExecute(
      jsonBody(req),
      await listPistonRuntimes(languages),
      ceilings,
      (rt) => resolveCompileLimits(rt.definition, config.limits),
    );
    const { request } = validateJobRequest(input, config.api, languages.definitions, ceilings);
    let view = await jobs.submitAndWait(request, { band: "interactive", caller }, config.api.RUN_WAIT_MAX_MS);
    // Piston answers when the job is done, however long the queue takes; so do we, while the
    // client is still there.
    while (!isFinalStatus(view.status) && !req.socket.destroyed)
      view = (await jobs.waitForView(view.id, config.api.RUN_WAIT_MAX_MS)) ?? { ...view, status: "failed" };
    (res.locals.log as Logger).info({ jobId: view.id, language: request.language }, "piston execute");
    if (view.status === "completed" && view.result) return res.json(pistonAnswer(runtime, view.result));
    // A job the queue gave up on (sandbox failures past their retries): Piston's internal-error stage.
    const message = `job ${view.id} ${view.status}: ${view.error?.message ?? "no result"}`;
    res.json(pistonFailure(runtime, message));
  });

  router.get("/packages", async (_req, res) => {
    res.json(
      (await listPistonRuntimes(languages)).map((rt) => ({
        language: rt.language,
        language_version: rt.version,
        installed: true,
      })),
    );
  });

  router.post("/packages", async (req: Request) => {
    // A JSON null (or any non-object) has no fields: was a 500 reading them (found by the fuzzer).
    const parsed = jsonBody(req);
    const body = (typeof parsed === "object" && parsed !== null ? parsed : {}) as {
      language?: unknown;
      version?: unknown;
    };
    if (typeof body.language !== "string") throw new PistonError(400, "language is required as a string");
    if (typeof body.version !== "string") throw new PistonError(400, "version is required as a string");
    const installed = resolveRuntime(await listPistonRuntimes(languages), body.language, body.version);
    throw new PistonError(
      400,
      installed
        ? `${installed.language}-${installed.version} is already installed; ${IMAGES_NOTE}`
        : `${body.language}-${body.version} cannot be installed over the API; ${IMAGES_NOTE}`,
    );
  });

  router.delete("/packages", () => {
    throw new PistonError(
      400,
      `packages cannot be uninstalled over the API; ${IMAGES_NOTE} (and removed with images:gc)`,
    );
  });

  router.use((_req: Request, _res: Response, next: NextFunction) => next(new PistonError(404, "Not Found")));
  router.use(pistonErrorHandler(logger));
  return router;
}
