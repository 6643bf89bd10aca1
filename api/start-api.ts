import type { AddressInfo } from "node:net";
import type { Express } from "express";
import type { Logger } from "pino";
import type { ApiConfig } from "../config/load-config.ts";
import { connectRedis } from "../redis/redis-connection.ts";
import { KeyDirectory } from "./api-keys.ts";
import { BatchQueue } from "./batch-queue.ts";
import { CompletionWaiter } from "./completion-waiter.ts";
import { startCompletionWorker } from "./completion-worker.ts";
import { createApp } from "./create-app.ts";
import { createHttpServer, destroyUnstartedConnections } from "./http-server-limits.ts";
import { JobQueue } from "./job-queue.ts";
import { LanguageCatalog } from "./language-catalog.ts";
import { attachLiveSockets } from "./live-sockets.ts";
import { LiveStreams } from "./live-streams.ts";
import { isLoopbackHost } from "./loopback-host.ts";
import { createMetrics } from "./metrics.ts";
import { StatusSampler } from "./status-history.ts";
import { WebhookAddressPolicy } from "./webhook-address-policy.ts";

// Brings up the API: Redis connection, queues, completion events, language catalog, the
// completion worker (batch ends, webhooks), HTTP server, the status sampler (/status history).
// Refuses to listen beyond loopback without API keys: an open code-execution endpoint on a network
// is a free compute service for anyone who finds it.

export interface StartedApi {
  /** The express app (tests walk its router: test/api/openapi.test.ts). */
  app: Express;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startApi(config: ApiConfig, logger: Logger): Promise<StartedApi> {
  const { HOST, PORT } = config.api;
  const policy = new WebhookAddressPolicy(config.webhooks);
  const redis = connectRedis(config.queue, "start API");
  redis.on("error", (error) => logger.error({ err: error }, "Redis connection error"));
  const directory = new KeyDirectory(redis, config);
  if (!isLoopbackHost(HOST) && !(await directory.keysRequired())) {
    redis.disconnect();
    throw new Error(
      `start API: refusing to listen on non-loopback HOST=${HOST} without API keys; ` +
        "create one with `npm run keys -- create`, or set API_KEYS=key1,key2 " +
        "(clients send Authorization: Bearer <key>), or use HOST=127.0.0.1",
    );
  }
  const waiter = new CompletionWaiter(redis.duplicate(), config.queue.QUEUE_PREFIX, logger);
  await waiter.ready();
  const jobs = new JobQueue(redis, config, waiter, logger);
  const batches = new BatchQueue(redis, config, jobs);
  const languages = await LanguageCatalog.load(redis, config, logger);
  const metrics = createMetrics(redis, config.queue, [jobs.queue, jobs.completions]);
  const sampler = new StatusSampler(
    redis,
    config.queue,
    config.api.STATUS_SAMPLE_INTERVAL_MS,
    jobs.queue,
    logger,
  );
  const completions = startCompletionWorker({
    redis,
    settings: config,
    logger,
    jobs,
    batches,
    directory,
    policy,
  });
  const streams = new LiveStreams(config.api.LIVE_STREAMS_PER_KEY);
  const deps = { config, logger, redis, jobs, batches, languages, directory, policy, metrics, streams };
  const app = createApp(deps);

  const server = createHttpServer(app, config.api, logger);
  server.listen(PORT, HOST);
  const sockets = attachLiveSockets(server, deps);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = HOST.includes(":") ? `[${HOST}]` : HOST;
  logger.info({ host: HOST, port }, "API listening");
  sampler.start();

  return {
    app,
    port,
    url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        destroyUnstartedConnections(server);
        streams.closeAll(); // open event streams would hold the server open
        sockets.close();
      });
      languages.close();
      await sampler.close();
      await completions.close();
      await jobs.close();
      await waiter.close();
      // quit() waits for replies in flight; when Redis is already gone, cut the connection instead.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
