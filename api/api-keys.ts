import { createHmac, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import type { ApiSettings, QueueConfig, WebhookConfig } from "../config/load-config.ts";
import type { KeyLimits } from "../contract/api-key.ts";
import {
  anyStoredKey,
  defaultKeyLimits,
  keyDigest,
  keyRecordOfDigest,
  readKeyRecord,
} from "./api-key-store.ts";

// Who is calling. Three sources, in this order:
//   - keys created by `npm run keys -- create`, stored in Redis (api-key-store.ts) with their
//     limits, webhook secret and revokedAt;
//   - API_KEYS from the environment: id `env-<12 hex of sha256>`, KEY_DEFAULT_* limits, webhook
//     secret HMAC-SHA256(key, "cellblock-webhook") so the client can compute it too;
//   - nobody, when no key of either kind exists: the "anonymous" caller (start-api.ts allows that
//     only on loopback), unlimited, its webhooks signed with WEBHOOK_SECRET.
// Lookups go by digest, so only the digest of a presented key ever meets stored data; the final
// comparison is timingSafeEqual all the same.

export interface Caller {
  keyId: string;
  limits: KeyLimits;
}

export const ANONYMOUS_KEY_ID = "anonymous";
const unlimited: KeyLimits = { requestsPerMinute: 0, maxRunningJobs: 0, maxQueuedJobs: 0, ceilings: {} };

export interface KeyDirectorySettings {
  queue: Pick<QueueConfig, "QUEUE_PREFIX">;
  api: Pick<
    ApiSettings,
    | "API_KEYS"
    | "KEY_DEFAULT_REQUESTS_PER_MINUTE"
    | "KEY_DEFAULT_MAX_RUNNING_JOBS"
    | "KEY_DEFAULT_MAX_QUEUED_JOBS"
  >;
  webhooks: Pick<WebhookConfig, "WEBHOOK_SECRET">;
}

export class KeyDirectory {
  private readonly envKeys: Map<string, { id: string; secret: string }>;
  /** A stored key was seen once: keys are required from then on (see keysRequired). */
  private storedKeySeen = false;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly settings: KeyDirectorySettings,
  ) {
    this.prefix = settings.queue.QUEUE_PREFIX;
    this.envKeys = new Map(
      settings.api.API_KEYS.map((key) => {
        const digest = keyDigest(key);
        const secret = createHmac("sha256", key).update("cellblock-webhook").digest("hex");
        return [digest, { id: `env-${digest.slice(0, 12)}`, secret }];
      }),
    );
  }

  /**
   * Whether requests need a key: some API_KEYS, or some key in Redis (revoked ones count). Stored
   * keys are never deleted, so once seen the answer stays yes and costs no more HLEN per request;
   * "no" is asked again each time, so the first key created ends anonymous access at once.
   */
  async keysRequired(): Promise<boolean> {
    if (this.envKeys.size > 0 || this.storedKeySeen) return true;
    this.storedKeySeen = await anyStoredKey(this.redis, this.prefix);
    return this.storedKeySeen;
  }

  /** The caller for a presented key, or null if it is unknown or revoked. */
  async resolve(presented: string): Promise<Caller | null> {
    const digest = keyDigest(presented);
    const env = this.envKeys.get(digest);
    if (env) return { keyId: env.id, limits: defaultKeyLimits(this.settings.api) };
    const record = await keyRecordOfDigest(this.redis, this.prefix, digest);
    if (!record || record.revokedAt !== null || !sameDigest(record.keyDigest, digest)) return null;
    return { keyId: record.id, limits: record.limits };
  }

  anonymous(): Caller {
    return { keyId: ANONYMOUS_KEY_ID, limits: unlimited };
  }

  /** The secret that signs this key's webhooks, or null when it has none. */
  async webhookSecret(keyId: string): Promise<string | null> {
    if (keyId === ANONYMOUS_KEY_ID) return this.settings.webhooks.WEBHOOK_SECRET ?? null;
    for (const env of this.envKeys.values()) if (env.id === keyId) return env.secret;
    return (await readKeyRecord(this.redis, this.prefix, keyId))?.webhookSecret ?? null;
  }
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
