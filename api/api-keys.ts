import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { type ApiKeyRecord, ApiKeyRecordSchema, type KeyLimits } from "../contract/api-key.ts";
import { redisKeys } from "../contract/queue.ts";

// Who is calling. Three sources, in this order:
//   - keys created by `npm run keys -- create`: Redis hash `<prefix>:api-keys` maps sha256(key)
//     → id, `<prefix>:api-key-records` maps id → ApiKeyRecord (limits, webhook secret, revokedAt);
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

export const keyDigest = (key: string) => createHash("sha256").update(key).digest("hex");
const recordsKey = (prefix: string) => `${prefix}:api-key-records`;

export function defaultKeyLimits(config: Config): KeyLimits {
  return {
    requestsPerMinute: config.KEY_DEFAULT_REQUESTS_PER_MINUTE,
    maxRunningJobs: config.KEY_DEFAULT_MAX_RUNNING_JOBS,
    maxQueuedJobs: config.KEY_DEFAULT_MAX_QUEUED_JOBS,
    ceilings: {},
  };
}

export class KeyDirectory {
  private readonly envKeys: Map<string, { id: string; secret: string }>;

  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
  ) {
    this.envKeys = new Map(
      config.apiKeys.map((key) => {
        const digest = keyDigest(key);
        const secret = createHmac("sha256", key).update("cellblock-webhook").digest("hex");
        return [digest, { id: `env-${digest.slice(0, 12)}`, secret }];
      }),
    );
  }

  /** Whether requests need a key: some API_KEYS, or some key in Redis (revoked ones count). */
  async keysRequired(): Promise<boolean> {
    if (this.envKeys.size > 0) return true;
    return (await this.redis.hlen(redisKeys(this.config.QUEUE_PREFIX).apiKeys)) > 0;
  }

  /** The caller for a presented key, or null if it is unknown or revoked. */
  async resolve(presented: string): Promise<Caller | null> {
    const digest = keyDigest(presented);
    const env = this.envKeys.get(digest);
    if (env) return { keyId: env.id, limits: defaultKeyLimits(this.config) };
    const id = await this.redis.hget(redisKeys(this.config.QUEUE_PREFIX).apiKeys, digest);
    if (!id) return null;
    const record = await this.record(id);
    if (!record || record.revokedAt !== null || !sameDigest(record.keyDigest, digest)) return null;
    return { keyId: record.id, limits: record.limits };
  }

  anonymous(): Caller {
    return { keyId: ANONYMOUS_KEY_ID, limits: unlimited };
  }

  /** The secret that signs this key's webhooks, or null when it has none. */
  async webhookSecret(keyId: string): Promise<string | null> {
    if (keyId === ANONYMOUS_KEY_ID) return this.config.WEBHOOK_SECRET ?? null;
    for (const env of this.envKeys.values()) if (env.id === keyId) return env.secret;
    return (await this.record(keyId))?.webhookSecret ?? null;
  }

  private async record(id: string): Promise<(ApiKeyRecord & { keyDigest: string }) | null> {
    const raw = await this.redis.hget(recordsKey(this.config.QUEUE_PREFIX), id);
    if (!raw) return null;
    const { keyDigest: digest, ...rest } = JSON.parse(raw) as { keyDigest?: string };
    const parsed = ApiKeyRecordSchema.safeParse(rest);
    return parsed.success && digest ? { ...parsed.data, keyDigest: digest } : null;
  }
}

function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

// The admin side (`npm run keys`): create, list, revoke.

export interface CreatedKey {
  key: string;
  record: ApiKeyRecord;
}

export async function createKey(
  redis: Redis,
  prefix: string,
  name: string,
  limits: KeyLimits,
): Promise<CreatedKey> {
  const id = randomBytes(6).toString("hex");
  const key = `cbk_${randomBytes(32).toString("base64url")}`;
  const record: ApiKeyRecord = ApiKeyRecordSchema.parse({
    id,
    name,
    createdAt: new Date().toISOString(),
    revokedAt: null,
    webhookSecret: randomBytes(32).toString("hex"),
    limits,
  });
  const digest = keyDigest(key);
  await redis
    .multi()
    .hset(recordsKey(prefix), id, JSON.stringify({ ...record, keyDigest: digest }))
    .hset(redisKeys(prefix).apiKeys, digest, id)
    .exec();
  return { key, record };
}

export async function listKeys(redis: Redis, prefix: string): Promise<ApiKeyRecord[]> {
  const all = await redis.hgetall(recordsKey(prefix));
  return Object.values(all)
    .map((raw) => {
      const { keyDigest: _digest, ...rest } = JSON.parse(raw) as ApiKeyRecord & { keyDigest: string };
      return ApiKeyRecordSchema.parse(rest);
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Marks a key revoked (kept for the listing); returns false if the id is unknown. */
export async function revokeKey(redis: Redis, prefix: string, id: string): Promise<boolean> {
  const raw = await redis.hget(recordsKey(prefix), id);
  if (!raw) return false;
  const record = JSON.parse(raw) as ApiKeyRecord;
  record.revokedAt ??= new Date().toISOString();
  await redis.hset(recordsKey(prefix), id, JSON.stringify(record));
  return true;
}
