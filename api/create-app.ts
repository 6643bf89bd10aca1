import express, { type Request, type Response } from "express";
import { ServiceError } from "../contract/errors.ts";
import { ADMIN_BASE_PATH, adminRouter, requireAdminKey } from "./admin-view.ts";
import { apiDocs, loadApiDocs } from "./api-docs.ts";
import type { AppDeps } from "./app-deps.ts";
import { authenticate } from "./auth.ts";
import { errorHandler, notFound, requireJsonBody } from "./http-errors.ts";
import { judge0Router } from "./judge0/judge0-router.ts";
import { pistonRouter } from "./piston/piston-router.ts";
import { rateLimit } from "./rate-limit.ts";
import { checkReadiness } from "./readiness.ts";
import { requestLog } from "./request-log.ts";
import { batchRoutes } from "./routes-batches.ts";
import { eventRoutes } from "./routes-events.ts";
import { jobRoutes } from "./routes-jobs.ts";
import { statusRoutes } from "./routes-status.ts";
import { loadWebAssets, webPages } from "./web-pages.ts";
import { liveWorkers } from "./worker-registry.ts";

// The HTTP edge, in order: request log (with request id) → web pages (no key: the page asks for
// one) → API description and reference (/openapi.json, /docs; no key) → admin view (own key) → API key → per-key rate limit → JSON body (larger limit for
// /batches) → routes → errors.

export function createApp(deps: AppDeps) {
  const { config, logger, redis, jobs, languages, directory, metrics } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(requestLog(logger));
  app.use(webPages(loadWebAssets()));
  app.use(apiDocs(loadApiDocs()));
  app.use(
    ADMIN_BASE_PATH,
    requireAdminKey(config.api.ADMIN_API_KEY),
    adminRouter([jobs.queue, jobs.completions]),
  );
  // The compatibility APIs speak their own auth, bodies and error shapes (docs/COMPAT.md).
  app.use("/judge0", judge0Router(deps));
  app.use(["/api/v2/piston", "/api/v2"], pistonRouter(deps));
  app.use(authenticate(directory));
  app.use(rateLimit(redis, config.queue.QUEUE_PREFIX));
  app.use(requireJsonBody);
  app.use(
    "/batches",
    express.json({ limit: config.api.BATCH_BODY_LIMIT_BYTES, strict: true, type: "application/json" }),
  );
  app.use(express.json({ limit: config.api.BODY_LIMIT_BYTES, strict: true, type: "application/json" }));

  app.use(eventRoutes(deps)); // before jobRoutes: POST /run?stream=1 is answered there
  app.use(jobRoutes(deps));
  app.use(batchRoutes(deps));
  app.use(statusRoutes(deps));

  app.get("/languages", async (_req, res) => {
    res.json(await languages.list());
  });

  app.get("/workers", async (_req, res) => {
    res.json(await liveWorkers(redis, config.queue));
  });

  app.get("/metrics", async (_req: Request, res: Response) => {
    res.set("content-type", metrics.contentType).send(await metrics.render());
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const readiness = await checkReadiness(redis, config.queue);
    if (readiness.ready) return res.json({ status: "ready", checks: readiness.checks });
    const error = new ServiceError("E_NOT_READY", readiness.reason, readiness.checks);
    res.status(error.status).json(error.toBody());
  });

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
