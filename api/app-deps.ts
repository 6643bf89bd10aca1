import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ApiConfig } from "../config/load-config.ts";
import type { KeyDirectory } from "./api-keys.ts";
import type { BatchQueue } from "./batch-queue.ts";
import type { JobQueue } from "./job-queue.ts";
import type { LanguageCatalog } from "./language-catalog.ts";
import type { LiveStreams } from "./live-streams.ts";
import type { createMetrics } from "./metrics.ts";
import type { WebhookAddressPolicy } from "./webhook-address-policy.ts";

/** What the HTTP app and its routers are built from (start-api.ts wires them). */
export interface AppDeps {
  config: ApiConfig;
  logger: Logger;
  redis: Redis;
  jobs: JobQueue;
  batches: BatchQueue;
  languages: LanguageCatalog;
  directory: KeyDirectory;
  policy: WebhookAddressPolicy;
  metrics: ReturnType<typeof createMetrics>;
  /** Open event streams and their per-key limit (SSE, WebSockets). */
  streams: LiveStreams;
}
