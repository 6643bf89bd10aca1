import { type Request, type Response, Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { ServiceError } from "../contract/errors.ts";
import { lowerCeilings } from "../contract/resolve-limits.ts";
import type { AppDeps } from "./app-deps.ts";
import { callerOf } from "./auth.ts";
import { checkCallback } from "./check-callback.ts";
import { validateBatch } from "./validate-batch.ts";
import { fieldProblems, validationError } from "./validate-request.ts";

// POST|GET|DELETE /batches. Batches of other API keys answer 404.

/** `?offset=&limit=` of GET /batches/:id. */
export const BatchPageQuerySchema = z
  .object({
    offset: z.coerce.number().int().nonnegative().default(0),
    limit: z.coerce.number().int().min(0).max(1000).default(100),
  })
  .strict();

export function batchRoutes({ config, batches, languages, directory, policy }: AppDeps): Router {
  const router = Router();

  router.post("/batches", async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const max = lowerCeilings(config.limits.ceilings, caller.limits.ceilings);
    const { requests, callbackUrl } = validateBatch(req.body, config.api, languages.definitions, max);
    await checkCallback(directory, policy, callbackUrl, caller.keyId, "callbackUrl");
    const id = await batches.create(requests, caller, callbackUrl);
    (res.locals.log as Logger).info({ batchId: id, jobs: requests.length }, "batch submitted");
    res.status(202).location(`/batches/${id}`).json({ id, total: requests.length });
  });

  router.get("/batches/:id", async (req: Request<{ id: string }>, res: Response) => {
    const page = BatchPageQuerySchema.safeParse(req.query);
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
