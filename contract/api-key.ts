import { z } from "zod";
import { StepLimitsSchema } from "./limits.ts";

// An API key as stored in Redis (hash `<prefix>:api-keys`, field = sha256(key) hex). The key itself
// is never stored: it is 32 random bytes, so a plain SHA-256 is as good as a slow hash here (there
// is nothing to brute-force). The webhook secret must be stored in clear: the service signs with it.

/** Per-key resource ceilings: each caps the request's `limits` below the operator's ceiling. */
export const KeyCeilingsSchema = StepLimitsSchema;

export const KeyLimitsSchema = z
  .object({
    /** Requests per minute on every authenticated route (0 = no limit). */
    requestsPerMinute: z.number().int().nonnegative(),
    /** Jobs of this key running at once across all workers (0 = no limit). */
    maxRunningJobs: z.number().int().nonnegative(),
    /** Jobs of this key waiting in the queue (0 = no limit). */
    maxQueuedJobs: z.number().int().nonnegative(),
    ceilings: KeyCeilingsSchema.default({}),
  })
  .strict();

export const ApiKeyRecordSchema = z
  .object({
    /** Public id: shown by `keys list`, used by `keys revoke`, in logs and job data. Never the key. */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    name: z.string().max(200),
    createdAt: z.string(),
    revokedAt: z.string().nullable().default(null),
    /** HMAC-SHA256 secret of this key's webhook signatures (hex). */
    webhookSecret: z.string().min(32),
    limits: KeyLimitsSchema,
  })
  .strict();

/** A record as stored in Redis (`redisKeys().apiKeyRecords`): the key's digest is kept with it. */
export const StoredApiKeySchema = ApiKeyRecordSchema.extend({
  /** sha256(key) hex; compared again on every lookup. */
  keyDigest: z.string().regex(/^[0-9a-f]{64}$/),
});

export type StoredApiKey = z.infer<typeof StoredApiKeySchema>;
export type KeyCeilings = z.infer<typeof KeyCeilingsSchema>;
export type KeyLimits = z.infer<typeof KeyLimitsSchema>;
export type ApiKeyRecord = z.infer<typeof ApiKeyRecordSchema>;
