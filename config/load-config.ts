import { z } from "zod";
import { envGroups } from "./env-schema.ts";

// All configuration: env → zod → frozen object, parsed once at start-up by each entry point
// (app/, rootfs-recipes/cli.ts). Nothing else reads process.env. The groups and their variables
// are declared in env-schema.ts; each part of the service is handed the groups it uses (ApiConfig,
// WorkerConfig below), and functions deeper down take the narrowest slice they need.

/** Each group parses the whole environment (a zod object ignores the variables of other groups). */
const ConfigSchema = z.preprocess(
  (env) => Object.fromEntries(Object.keys(envGroups).map((group) => [group, env])),
  z.object({
    queue: envGroups.queue.schema,
    api: envGroups.api.schema,
    limits: envGroups.limits.schema,
    worker: envGroups.worker.schema,
    sandbox: envGroups.sandbox.schema,
    images: envGroups.images.schema,
    webhooks: envGroups.webhooks.schema,
    logging: envGroups.logging.schema,
  }),
);

type Parsed = z.output<typeof ConfigSchema>;

/** The whole configuration, one frozen object per group. */
export type Config = { readonly [G in keyof Parsed]: Readonly<Parsed[G]> };

export type QueueConfig = Config["queue"];
export type ApiSettings = Config["api"];
export type LimitsConfig = Config["limits"];
export type WorkerSettings = Config["worker"];
export type SandboxConfig = Config["sandbox"];
export type ImagesConfig = Config["images"];
export type WebhookConfig = Config["webhooks"];

/** What the API process is given (startApi): the API's own groups, the shared queue and limits. */
export type ApiConfig = Pick<Config, "queue" | "api" | "limits" | "webhooks"> & {
  readonly images: Pick<ImagesConfig, "RECIPES_DIR">;
};

/** What a worker process is given (startWorker). */
export type WorkerConfig = Pick<Config, "queue" | "worker" | "limits" | "sandbox"> & {
  readonly images: Pick<ImagesConfig, "RECIPES_DIR" | "CELLBLOCK_IMAGES" | "CELLBLOCK_LANGUAGE_IMAGES">;
};

/** Parses the environment; throws an Error listing every bad variable by name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    // Paths are [group, VARIABLE, …]: the variable is what the operator sets.
    const problems = parsed.error.issues.map((issue) => `${issue.path.slice(1).join(".")}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join("; ")}`);
  }
  const groups = parsed.data;
  return Object.freeze({
    queue: Object.freeze(groups.queue),
    api: Object.freeze(groups.api),
    limits: Object.freeze(groups.limits),
    worker: Object.freeze(groups.worker),
    sandbox: Object.freeze(groups.sandbox),
    images: Object.freeze(groups.images),
    webhooks: Object.freeze(groups.webhooks),
    logging: Object.freeze(groups.logging),
  });
}
