import { type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import { ServiceError } from "../contract/errors.ts";
import type { PriorityBand } from "../contract/queue.ts";
import { lowerCeilings } from "../contract/resolve-limits.ts";
import type { AppDeps } from "./app-deps.ts";
import { callerOf } from "./auth.ts";
import { checkCallback } from "./check-callback.ts";
import { parseIdempotencyKey, parseWaitMs, validateJobRequest } from "./validate-request.ts";

// POST /run, POST /jobs, GET|DELETE /jobs/:id. Every handler: caller (auth.ts), validate once,
// then the queue. Jobs of other API keys answer 404.

/** Validates a submission and what it may ask for; the caller enqueues it. */
export async function acceptSubmission(
  { config, languages, directory, policy }: AppDeps,
  req: Request,
  res: Response,
  band: PriorityBand,
) {
  const caller = callerOf(res);
  const { request, callbackUrl } = validateJobRequest(
    req.body,
    config.api,
    languages.definitions,
    lowerCeilings(config.limits.ceilings, caller.limits.ceilings),
  );
  await checkCallback(directory, policy, callbackUrl, caller.keyId, "callbackUrl");
  const idempotencyKey = parseIdempotencyKey(req.get("idempotency-key"));
  return { request, options: { band, caller, idempotencyKey, callbackUrl } };
}

export function jobRoutes(deps: AppDeps): Router {
  const { config, jobs } = deps;
  const router = Router();
  const accept = (req: Request, res: Response, band: PriorityBand) => acceptSubmission(deps, req, res, band);
  const logSubmitted = (res: Response, id: string, band: PriorityBand, language: string) =>
    (res.locals.log as Logger).info({ jobId: id, band, language }, "job submitted");

  router.post("/run", async (req: Request, res: Response) => {
    const waitMs = parseWaitMs(req.query.waitMs, config.api);
    const { request, options } = await accept(req, res, "interactive");
    const view = await jobs.submitAndWait(request, options, waitMs);
    const id = view.id;
    logSubmitted(res, id, "interactive", request.language);
    if (view.status === "completed" && view.result) return res.status(200).json(view.result);
    if (view.status === "queued" || view.status === "running") {
      return res.status(202).location(`/jobs/${id}`).json({ id, status: view.status });
    }
    res.status(200).json(view);
  });

  router.post("/jobs", async (req: Request, res: Response) => {
    const { request, options } = await accept(req, res, "batch");
    const id = await jobs.submit(request, options);
    logSubmitted(res, id, "batch", request.language);
    res.status(202).location(`/jobs/${id}`).json({ id });
  });

  router.get("/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    const view = await jobs.view(req.params.id, callerOf(res).keyId);
    if (!view) throw new ServiceError("E_JOB_NOT_FOUND", req.params.id);
    res.json(view);
  });

  router.delete("/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    res.json(await jobs.cancel(req.params.id, callerOf(res).keyId));
  });

  return router;
}
