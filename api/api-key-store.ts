import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { ApiSettings } from "../config/load-config.ts";
import {
  type ApiKeyRecord,
  ApiKeyRecordSchema,
  type KeyLimits,
  type StoredApiKey,
  StoredApiKeySchema,
} from "../contract/api-key.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys } from "../contract/queue.ts";

// API keys in Redis: `<prefix>:api-keys` maps sha256(key) hex → id, `<prefix>:api-key-records`
// maps id → StoredApiKey (the record plus the key's digest). The key itself is never stored. Every
// record read back is parsed with its schema; one that does not parse is treated as absent (its
// key stops working), never trusted. The admin side (`npm run keys`) creates, lists and revokes.

export const keyDigest = (key: string) => createHash("sha256").update(key).digest("hex");

/** The stored record of a key id, or null when it is unknown or unreadable. */
export async function readKeyRecord(redis: Redis, prefix: string, id: string): Promise<StoredApiKey | null> {
  const raw = await redis.hget(redisKeys(prefix).apiKeyRecords, id);
  return raw === null ? null : parseJsonWith(StoredApiKeySchema, raw);
}

// The digest's key id and that id's record in one round trip: every request with a key needs both,
// and asked one after the other they were two round trips on every request's critical path.
const recordOfDigestScript = `
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)`;

/** The stored record of the key with this digest, or null when there is none or it is unreadable. */
export async function keyRecordOfDigest(
  redis: Redis,
  prefix: string,
  digest: string,
): Promise<StoredApiKey | null> {
  const keys = redisKeys(prefix);
  const raw = await redis.eval(recordOfDigestScript, 2, keys.apiKeys, keys.apiKeyRecords, digest);
  return typeof raw === "string" ? parseJsonWith(StoredApiKeySchema, raw) : null;
}

/** Whether any key was ever created in Redis (revoked ones count). */
export async function anyStoredKey(redis: Redis, prefix: string): Promise<boolean> {
  return (await redis.hlen(redisKeys(prefix).apiKeys)) > 0;
}

/** The KEY_DEFAULT_* limits: of API_KEYS keys, and the defaults of `keys create`. */
export function defaultKeyLimits(
  api: Pick<
    ApiSettings,
    "KEY_DEFAULT_REQUESTS_PER_MINUTE" | "KEY_DEFAULT_MAX_RUNNING_JOBS" | "KEY_DEFAULT_MAX_QUEUED_JOBS"
  >,
): KeyLimits {
  return {
    requestsPerMinute: api.KEY_DEFAULT_REQUESTS_PER_MINUTE,
    maxRunningJobs: api.KEY_DEFAULT_MAX_RUNNING_JOBS,
    maxQueuedJobs: api.KEY_DEFAULT_MAX_QUEUED_JOBS,
    ceilings: {},
  };
}

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
  const stored: StoredApiKey = { ...record, keyDigest: digest };
  const keys = redisKeys(prefix);
  await redis
    .multi()
    .hset(keys.apiKeyRecords, id, JSON.stringify(stored))
    .hset(keys.apiKeys, digest, id)
    .exec();
  return { key, record };
}

/** Every readable record, oldest first (never a key; the digest is left out too). */
export async function listKeys(redis: Redis, prefix: string): Promise<ApiKeyRecord[]> {
  const all = await redis.hgetall(redisKeys(prefix).apiKeyRecords);
  return Object.entries(all)
    .map(([id, raw]) => {
      const stored = parseJsonWith(StoredApiKeySchema, raw);
      if (!stored) throw new Error(`API key record ${id} in Redis does not match its schema`);
      const { keyDigest: _digest, ...record } = stored;
      return record;
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Marks a key revoked (kept for the listing); returns false if the id is unknown. */
export async function revokeKey(redis: Redis, prefix: string, id: string): Promise<boolean> {
  const stored = await readKeyRecord(redis, prefix, id);
  if (!stored) return false;
  const revoked: StoredApiKey = { ...stored, revokedAt: stored.revokedAt ?? new Date().toISOString() };
  await redis.hset(redisKeys(prefix).apiKeyRecords, id, JSON.stringify(revoked));
  return true;
}
