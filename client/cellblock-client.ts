import type { z } from "zod";
import type { BatchAccepted, BatchCancelled, ErrorBodyShape, RunPending } from "../contract/api-responses.ts";
import type { BatchView } from "../contract/batch.ts";
import type { ErrorCode } from "../contract/errors.ts";
import type { JobRequestInput, JobSubmissionSchema } from "../contract/job-request.ts";
import type { JobResult, JobStatus, JobView } from "../contract/job-result.ts";
import type { LanguageInfo } from "../contract/language-info.ts";
import {
  CellblockApiError,
  CellblockJobError,
  CellblockTimeoutError,
  CellblockTransportError,
} from "./errors.ts";
import { parseRetryAfterS, RETRYABLE_STATUSES, type RetryOptions, retryDelayMs } from "./retry-policy.ts";

// A typed client for cellblock's own API (the routes of GET /openapi.json). Types come from the
// service's contract, so a request the compiler accepts is one the service's schema accepts, and
// answers are typed as the service builds them. No dependency but the platform's fetch.
//
// Theory of operation: every call is one `request()`: JSON in, JSON out; an error body becomes a
// CellblockApiError carrying its stable code; 429 and 503 are retried after the service's
// Retry-After (retry-policy.ts). Waiting for a job polls GET /jobs/:id with a growing interval
// (100 ms to 1 s): the service has no push channel for a job already submitted — POST /run
// itself waits on the queue's event stream, so `run()` polls only for jobs longer than `waitMs`.

/** What POST /run and POST /jobs accept (defaults not yet applied). */
export type JobSubmissionInput = z.input<typeof JobSubmissionSchema>;
export type { JobRequestInput };

export interface CellblockClientOptions {
  /** The service, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  apiKey?: string;
  retry?: RetryOptions;
  /** Called before each retry (logging, progress). */
  onRetry?: (info: { attempt: number; delayMs: number; error: CellblockApiError }) => void;
  /** Another fetch (a proxy agent, a test recorder). */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** Give up after this long (default 5 minutes): CellblockTimeoutError; the job goes on. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const FINISHED: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);
const BATCH_PAGE = 1000;

export class CellblockClient {
  readonly baseUrl: string;
  readonly #options: CellblockClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: CellblockClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Runs a job and returns its result (POST /run, then polling if it takes longer than `waitMs`). */
  async run(job: JobSubmissionInput, options: WaitOptions & { waitMs?: number } = {}): Promise<JobResult> {
    const query = options.waitMs === undefined ? "" : `?waitMs=${options.waitMs}`;
    const answer = await this.#request<JobResult | JobView | RunPending>("POST", `/run${query}`, job);
    if ("verdict" in answer) return answer;
    const view = FINISHED.has(answer.status) ? (answer as JobView) : await this.wait(answer.id, options);
    if (view.status === "completed" && view.result) return view.result;
    throw new CellblockJobError(view);
  }

  /** Submits a job at batch priority (POST /jobs) and returns its id at once. */
  async submit(job: JobSubmissionInput, options: { idempotencyKey?: string } = {}): Promise<string> {
    const headers = options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : undefined;
    return (await this.#request<{ id: string }>("POST", "/jobs", job, headers)).id;
  }

  /** GET /jobs/:id. */
  get(id: string): Promise<JobView> {
    return this.#request("GET", `/jobs/${encodeURIComponent(id)}`);
  }

  /** Polls until the job is completed, failed or cancelled, and returns its view. */
  async wait(id: string, options: WaitOptions = {}): Promise<JobView> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const started = Date.now();
    for (let round = 0; ; round++) {
      const view = await this.get(id);
      if (FINISHED.has(view.status)) return view;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw new CellblockTimeoutError(id, waited);
      await sleep(Math.min(100 * 1.5 ** round, 1000, timeoutMs - waited), options.signal);
    }
  }

  /** DELETE /jobs/:id: cancels a queued or running job; a finished one is E_JOB_FINISHED (409). */
  cancel(id: string): Promise<JobView> {
    return this.#request("DELETE", `/jobs/${encodeURIComponent(id)}`);
  }

  /** POST /batches: jobs inside carry no callbackUrl; the batch's own is called once at the end. */
  batch(jobs: JobRequestInput[], options: { callbackUrl?: string } = {}): Promise<BatchAccepted> {
    return this.#request("POST", "/batches", { jobs, ...options });
  }

  /** GET /batches/:id, one page of its jobs. */
  getBatch(id: string, page: { offset?: number; limit?: number } = {}): Promise<BatchView> {
    const query = new URLSearchParams();
    if (page.offset !== undefined) query.set("offset", String(page.offset));
    if (page.limit !== undefined) query.set("limit", String(page.limit));
    const suffix = query.size > 0 ? `?${query}` : "";
    return this.#request("GET", `/batches/${encodeURIComponent(id)}${suffix}`);
  }

  /**
   * Polls a batch's counts until it is finished (`onProgress` sees each reading), then returns
   * it with every job, in request order.
   */
  async waitBatch(
    id: string,
    options: WaitOptions & { onProgress?: (batch: BatchView) => void } = {},
  ): Promise<BatchView> {
    const timeoutMs = options.timeoutMs ?? 3_600_000;
    const started = Date.now();
    for (let round = 0; ; round++) {
      const view = await this.getBatch(id, { limit: 0 });
      options.onProgress?.(view);
      if (view.status === "finished") break;
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw new CellblockTimeoutError(id, waited);
      await sleep(Math.min(100 * 1.5 ** round, 1000, timeoutMs - waited), options.signal);
    }
    const first = await this.getBatch(id, { offset: 0, limit: BATCH_PAGE });
    const jobs = [...first.jobs];
    while (jobs.length < first.total) {
      const page = await this.getBatch(id, { offset: jobs.length, limit: BATCH_PAGE });
      if (page.jobs.length === 0) break;
      jobs.push(...page.jobs);
    }
    return { ...first, jobs, offset: 0, limit: jobs.length };
  }

  /** DELETE /batches/:id: cancels every job of the batch not yet finished. */
  cancelBatch(id: string): Promise<BatchCancelled> {
    return this.#request("DELETE", `/batches/${encodeURIComponent(id)}`);
  }

  /** GET /languages. */
  languages(): Promise<LanguageInfo[]> {
    return this.#request("GET", "/languages");
  }

  async #request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra?: Record<string, string>,
  ): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", ...extra };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.baseUrl}${path}`, init);
      } catch (error) {
        // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is its cause.
        const cause = (error as Error).cause as { code?: string; message?: string } | undefined;
        const why = cause ? ` (${cause.code ?? cause.message})` : "";
        throw new CellblockTransportError(
          `${method} ${this.baseUrl}${path}: ${(error as Error).message}${why}`,
          {
            cause: error,
          },
        );
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new CellblockTransportError(
          `${method} ${path}: answer ${response.status} is not JSON (is ${this.baseUrl} a cellblock service?)`,
        );
      }
      if (response.ok) return parsed as T;
      const error = toApiError(parsed, response);
      if (!error) {
        throw new CellblockTransportError(
          `${method} ${path}: answer ${response.status} without an error body`,
        );
      }
      const delayMs = RETRYABLE_STATUSES.has(response.status)
        ? retryDelayMs(this.#options.retry ?? {}, attempt, error.retryAfterS)
        : null;
      if (delayMs === null) throw error;
      this.#options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs);
    }
  }
}

function toApiError(parsed: unknown, response: Response): CellblockApiError | null {
  const error = (parsed as Partial<ErrorBodyShape> | null)?.error;
  if (typeof error?.code !== "string" || typeof error.message !== "string") return null;
  return new CellblockApiError(
    error.code as ErrorCode,
    error.message,
    response.status,
    error.details,
    parseRetryAfterS(response.headers.get("retry-after")),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
