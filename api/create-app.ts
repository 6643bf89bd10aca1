import express, { type Request, type Response } from "express";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Config } from "../app/config.ts";
import { ServiceError } from "../contract/errors.ts";
import { requireApiKey } from "./auth.ts";
import { errorHandler, notFound, requireJsonBody } from "./http-errors.ts";
import type { JobQueue } from "./job-queue.ts";
import type { LanguageCatalog } from "./language-catalog.ts";
import { checkReadiness } from "./readiness.ts";
import { requestLog } from "./request-log.ts";
import { parseIdempotencyKey, parseWaitMs, validateJobRequest } from "./validate-request.ts";

// The HTTP edge: parse and validate once, hand a JobRequest to the queue, map views to responses.

export interface AppDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  jobs: JobQueue;
  languages: LanguageCatalog;
}

export function createApp({ config, logger, redis, jobs, languages }: AppDeps) {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(requestLog(logger));
  app.use(requireApiKey(config.apiKeys));
  app.use(requireJsonBody);
  app.use(express.json({ limit: config.BODY_LIMIT_BYTES, strict: true, type: "application/json" }));

  const submit = async (req: Request, interactive: boolean) => {
    const request = validateJobRequest(req.body, config, languages.definitions);
    const idempotencyKey = parseIdempotencyKey(req.get("idempotency-key"));
    return jobs.submit(request, { interactive, idempotencyKey });
  };

  app.post("/run", async (req: Request, res: Response) => {
    const waitMs = parseWaitMs(req.query.waitMs, config);
    const id = await submit(req, true);
    const view = (await jobs.waitForView(id, waitMs)) ?? { id, status: "queued" as const };
    if (view.status === "completed" && view.result) return res.status(200).json(view.result);
    if (view.status === "queued" || view.status === "running") {
      return res.status(202).location(`/jobs/${id}`).json({ id, status: view.status });
    }
    res.status(200).json(view);
  });

  app.post("/jobs", async (req: Request, res: Response) => {
    const id = await submit(req, false);
    res.status(202).location(`/jobs/${id}`).json({ id });
  });

  app.get("/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    const view = await jobs.view(req.params.id);
    if (!view) throw new ServiceError("E_JOB_NOT_FOUND", req.params.id);
    res.json(view);
  });

  app.delete("/jobs/:id", async (req: Request<{ id: string }>, res: Response) => {
    res.json(await jobs.cancel(req.params.id));
  });

  app.get("/languages", async (_req, res) => {
    res.json(await languages.list());
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const readiness = await checkReadiness(redis, config);
    if (readiness.ready) return res.json({ status: "ready", checks: readiness.checks });
    const error = new ServiceError("E_NOT_READY", readiness.reason, readiness.checks);
    res.status(error.status).json(error.toBody());
  });

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
