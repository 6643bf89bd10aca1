import type { Redis } from "ioredis";
import { judge0Keys, type SubmissionRecord, SubmissionRecordSchema } from "../../contract/judge0.ts";
import { parseJsonWith } from "../../contract/parse-json.ts";
import { jobIdPattern } from "../job-queue.ts";

// Submission records beside their jobs, kept as long as job results (RESULT_TTL_S), and a per-key
// index (sorted by creation time) for GET /submissions. The index is trimmed of expired tokens
// whenever it is read, so it never outgrows what the key created within the TTL.

export class SubmissionStore {
  private readonly keys: ReturnType<typeof judge0Keys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlS: number,
  ) {
    this.keys = judge0Keys(prefix);
  }

  async save(records: readonly SubmissionRecord[]): Promise<void> {
    const write = this.redis.multi();
    for (const record of records) {
      const createdMs = Date.parse(record.created_at);
      write.set(this.keys.submission(record.token), JSON.stringify(record), "EX", this.ttlS);
      write.zadd(this.keys.submissionsByKey(record.keyId), createdMs, record.token);
      write.expire(this.keys.submissionsByKey(record.keyId), this.ttlS);
    }
    await write.exec();
  }

  /** The records of these tokens (null: unknown, expired, or another key's), in the same order. */
  async load(tokens: readonly string[], keyId: string): Promise<(SubmissionRecord | null)[]> {
    if (tokens.length === 0) return [];
    // A token is a job id; anything else is unknown without asking Redis about a key it names.
    const raws = await this.redis.mget(
      ...tokens.map((token) => this.keys.submission(jobIdPattern.test(token) ? token : "invalid")),
    );
    return raws.map((raw) => {
      const record = raw === null ? null : parseJsonWith(SubmissionRecordSchema, raw);
      return record && record.keyId === keyId ? record : null;
    });
  }

  /** A page of the key's tokens, newest first, and how many there are. */
  async page(keyId: string, page: number, perPage: number): Promise<{ tokens: string[]; total: number }> {
    const index = this.keys.submissionsByKey(keyId);
    await this.redis.zremrangebyscore(index, "-inf", Date.now() - this.ttlS * 1000);
    const start = (page - 1) * perPage;
    const [tokens, total] = await Promise.all([
      this.redis.zrevrange(index, start, start + perPage - 1),
      this.redis.zcard(index),
    ]);
    return { tokens, total };
  }

  async remove(record: SubmissionRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.submission(record.token))
      .zrem(this.keys.submissionsByKey(record.keyId), record.token)
      .exec();
  }
}
