import { parseArgs } from "node:util";
import { createKey, defaultKeyLimits, listKeys, revokeKey } from "../api/api-key-store.ts";
import { loadConfig } from "../config/load-config.ts";
import { type KeyCeilings, KeyLimitsSchema } from "../contract/api-key.ts";
import { connectRedis } from "../redis/redis-connection.ts";

// `npm run keys -- create|list|revoke`: the admin CLI for API keys, straight against REDIS_URL.
//   create --name NAME [--rpm N] [--max-running N] [--max-queued N]
//          [--max-cpu-time-ms N] [--max-wall-time-ms N] [--max-memory-bytes N] [--max-pids N]
//          [--max-output-bytes N]
//     prints the key and its webhook secret once (only the key's SHA-256 is stored);
//   list    prints id, name, created, revoked and limits of every key (never a key);
//   revoke ID   the key stops working at once (kept in the listing, marked revoked).
// Limits default to KEY_DEFAULT_*; 0 means no limit.

const usage =
  "usage: npm run keys -- create --name NAME [--rpm N] [--max-running N] [--max-queued N] | list | revoke ID";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: "string" },
    rpm: { type: "string" },
    "max-running": { type: "string" },
    "max-queued": { type: "string" },
    "max-cpu-time-ms": { type: "string" },
    "max-wall-time-ms": { type: "string" },
    "max-memory-bytes": { type: "string" },
    "max-pids": { type: "string" },
    "max-output-bytes": { type: "string" },
  },
});

const config = loadConfig();
if (!config.queue.REDIS_URL) {
  console.error("REDIS_URL is not set: the keys live in the service's Redis");
  process.exit(2);
}
const redis = connectRedis(config.queue, "keys", { maxRetriesPerRequest: 1 });
const number = (raw: string | undefined) => (raw === undefined ? undefined : Number(raw));

try {
  const [command, arg] = positionals;
  if (command === "create") {
    if (!values.name) throw new Error(`create needs --name\n${usage}`);
    const defaults = defaultKeyLimits(config.api);
    const ceilings: KeyCeilings = Object.fromEntries(
      Object.entries({
        cpuTimeMs: number(values["max-cpu-time-ms"]),
        wallTimeMs: number(values["max-wall-time-ms"]),
        memoryBytes: number(values["max-memory-bytes"]),
        pids: number(values["max-pids"]),
        outputBytes: number(values["max-output-bytes"]),
      }).filter(([, v]) => v !== undefined),
    );
    const limits = KeyLimitsSchema.parse({
      requestsPerMinute: number(values.rpm) ?? defaults.requestsPerMinute,
      maxRunningJobs: number(values["max-running"]) ?? defaults.maxRunningJobs,
      maxQueuedJobs: number(values["max-queued"]) ?? defaults.maxQueuedJobs,
      ceilings,
    });
    const { key, record } = await createKey(redis, config.queue.QUEUE_PREFIX, values.name, limits);
    console.log(JSON.stringify({ id: record.id, key, webhookSecret: record.webhookSecret, limits }, null, 2));
    console.error("Store the key and the webhook secret now: the key cannot be shown again.");
  } else if (command === "list") {
    for (const { webhookSecret: _secret, ...record } of await listKeys(redis, config.queue.QUEUE_PREFIX)) {
      console.log(JSON.stringify(record));
    }
  } else if (command === "revoke" && arg) {
    if (!(await revokeKey(redis, config.queue.QUEUE_PREFIX, arg))) throw new Error(`no key with id ${arg}`);
    console.log(`revoked ${arg}`);
  } else {
    throw new Error(usage);
  }
  await redis.quit();
} catch (error) {
  console.error((error as Error).message);
  redis.disconnect();
  process.exit(1);
}
