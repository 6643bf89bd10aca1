// When to try a request again: only on 429 (rate limit, queued-jobs quota) and 503 (queue full),
// which the service answers before it enqueues anything, so a retried submission never runs
// twice. The wait is the service's `Retry-After` (seconds or an HTTP date), else exponential
// backoff with jitter; either way at most `maxDelayMs`.

export interface RetryOptions {
  /** Attempts after the first (default 3; 0 = never retry). */
  retries?: number;
  /** Longest wait between attempts (default 30 s): a longer Retry-After gives up instead. */
  maxDelayMs?: number;
  /** First backoff without a Retry-After (default 500 ms, doubling). */
  baseDelayMs?: number;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Seconds from a Retry-After header: a whole number of seconds, or an HTTP date. */
export function parseRetryAfterS(header: string | null, nowMs = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const dateMs = Date.parse(trimmed);
  return Number.isNaN(dateMs) ? null : Math.max(0, Math.ceil((dateMs - nowMs) / 1000));
}

/** How long to wait before attempt `attempt + 1` (attempt counts from 0), or null to give up. */
export function retryDelayMs(
  options: RetryOptions,
  attempt: number,
  retryAfterS: number | null,
): number | null {
  const retries = options.retries ?? 3;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  if (attempt >= retries) return null;
  if (retryAfterS !== null) {
    const delay = retryAfterS * 1000;
    return delay <= maxDelayMs ? delay : null;
  }
  const backoff = (options.baseDelayMs ?? 500) * 2 ** attempt;
  return Math.min(maxDelayMs, backoff / 2 + Math.random() * (backoff / 2));
}
