import { type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { ServiceError } from "../contract/errors.ts";
import { ANONYMOUS_KEY_ID } from "./api-keys.ts";
import { callerOf } from "./auth.ts";
import type { AppDeps } from "./create-app.ts";
import { validateBatch } from "./validate-batch.ts";
import {
  ceilingsFor,
  fieldProblems,
  parseIdempotencyKey,
  parseWaitMs,
  validateJobRequest,
  validationError,
} from "./validate-request.ts";

// POST /run, POST|GET|DELETE /jobs, POST|GET|DELETE /batches. Every handler: caller (auth.ts),
// validate once, then the queue. Jobs and batches of other API keys answer 404.

const PageSchema = z
  .object({
    offset: z.coerce.number().int().nonnegative().default(0),
    limit: z.coerce.number().int().min(0).max(1000).default(100),
  })
  .strict();

export function jobRoutes({ config, jobs, batches, languages, directory, policy }: AppDeps): Router {
  const router = Router();

  /** Refuses a callback URL the SSRF policy forbids, or one that could not be signed. */
  const checkCallback = async (url: string | undefined, keyId: string, field: string) => {
    if (url === undefined) return;
    if (keyId === ANONYMOUS_KEY_ID && !(await directory.webhookSecret(keyId))) {
      throw validationError([
        { field, message: "needs an API key (or WEBHOOK_SECRET) to sign webhooks with" },
      ]);
    }
    try {
      await policy.resolve(new URL(url).hostname);
    } catch (error) {
      throw new ServiceError("E_CALLBACK_FORBIDDEN", (error as Error).message, { field });
    }
  };

  /** Validates a submission and what it may ask for; the caller enqueues it. */
  const accept = async (req: Request, res: Response, band: "interactive" | "batch") => {
    const caller = callerOf(res);
    const { request, callbackUrl } = validateJobRequest(
      req.body,
      config,
      languages.definitions,
      ceilingsFor(config, caller.limits.ceilings),
    );
    await checkCallback(callbackUrl, caller.keyId, "callbackUrl");
    const idempotencyKey = parseIdempotencyKey(req.get("idempotency-key"));
    return { request, options: { band, caller, idempotencyKey, callbackUrl } };
  };
  const logSubmitted = (res: Response, id: string, band: string, language: string) =>
    (res.locals.log as Logger).info({ jobId: id, band, language }, "job submitted");

  router.post("/run", async (req: Request, res: Response) => {
    const waitMs = parseWaitMs(req.query.waitMs, config);
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

  router.post("/batches", async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const max = ceilingsFor(config, caller.limits.ceilings);
    const { requests, callbackUrl } = validateBatch(req.body, config, languages.definitions, max);
    await checkCallback(callbackUrl, caller.keyId, "callbackUrl");
    const id = await batches.create(requests, caller, callbackUrl);
    (res.locals.log as Logger).info({ batchId: id, jobs: requests.length }, "batch submitted");
    res.status(202).location(`/batches/${id}`).json({ id, total: requests.length });
  });

  router.get("/batches/:id", async (req: Request<{ id: string }>, res: Response) => {
    const page = PageSchema.safeParse(req.query);
    if (!page.success) throw validationError(fieldProblems(page.error));
    const view = await batches.view(req.params.id, callerOf(res).keyId, page.data.offset, page.data.limit);
    if (!view) throw new ServiceError("E_BATCH_NOT_FOUND", req.params.id);
    res.json(view);
  });

  router.delete("/batches/:id", async (req: Request<{ id: string }>, res: Response) => {
    const cancelled = await batches.cancel(req.params.id, callerOf(res).keyId);
    if (cancelled === null) throw new ServiceError("E_BATCH_NOT_FOUND", req.params.id);
    res.json({ id: req.params.id, cancelled });
  });

  return router;
}
