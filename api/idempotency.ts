import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { QueueConfig } from "../config/load-config.ts";
import { ServiceError } from "../contract/errors.ts";
import { redisKeys } from "../contract/queue.ts";

// Idempotency-Key: per API key, the first request with a key claims it for its job id (SET NX of
// "<jobId> <body hash>", kept RESULT_TTL_S); a repeat with the same body gets that job's id back, a
// repeat with another body is 422. A claim whose job never got enqueued is released, so a retry of
// a failed submission is not pinned to a job that does not exist.

export type IdempotencyClaim =
  /** This request owns the key; release() if its job is not enqueued after all. */
  | { kind: "claimed"; release(): Promise<void> }
  /** An earlier request with the same body owns it: answer with its job. */
  | { kind: "replay"; jobId: string };

export class IdempotencyKeys {
  private readonly keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    private readonly queue: Pick<QueueConfig, "QUEUE_PREFIX" | "RESULT_TTL_S">,
  ) {
    this.keys = redisKeys(queue.QUEUE_PREFIX);
  }

  /** Claims `idempotencyKey` of `callerKeyId` for job `jobId` and the request `body`. */
  async claim(
    callerKeyId: string,
    idempotencyKey: string,
    jobId: string,
    body: unknown,
  ): Promise<IdempotencyClaim> {
    const key = this.keys.idempotency(`${callerKeyId}:${idempotencyKey}`);
    const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
    const claimed = await this.redis.set(key, `${jobId} ${hash}`, "EX", this.queue.RESULT_TTL_S, "NX");
    if (claimed !== null)
      return { kind: "claimed", release: () => this.redis.del(key).then(() => undefined) };
    // "<jobId> <sha256 hex>"; anything else (the claim vanished in between) cannot prove the same body.
    const [, firstId, firstHash] = /^(\S+) ([0-9a-f]{64})$/.exec((await this.redis.get(key)) ?? "") ?? [];
    if (!firstId || firstHash !== hash) throw new ServiceError("E_IDEMPOTENCY_MISMATCH", idempotencyKey);
    return { kind: "replay", jobId: firstId };
  }
}
