import type { RawRequest } from "../raw-http.ts";

// What the request fuzzer knows about an HTTP API: its routes, a few valid bodies and query
// values per route (hostile cases are mutations of them), and how the API shapes its errors. One
// file per API describes its routes (routes-cellblock.ts, and the compatibility APIs beside it);
// apis.ts lists them, so a new API is fuzzed by adding its file there.

/** Ids that exist on the server under test, filled in before fuzzing (a real job, a real batch). */
export interface FuzzContext {
  jobId: string;
  batchId: string;
  /** Headers every well-formed case carries (the API key). */
  authHeaders: [string, string][];
  /**
   * A key whose queued-jobs quota is used up: a route that would wait for a worker (none runs while
   * fuzzing) is fuzzed with it, so a request that passes validation is refused with 429, not held.
   */
  busyAuthHeaders: [string, string][];
  /** A job that has ended (cancelled while queued): its event stream replays and ends. */
  finishedJobId: string;
  /** A Judge0 submission's token. */
  judge0Token: string;
}

export interface FuzzRoute {
  method: string;
  /** Express-style pattern; `:name` segments are filled from `ids` and mutated. */
  path: string;
  /** Valid values of each `:name` segment (besides them, hostile ids are generated). */
  ids?: (context: FuzzContext) => Record<string, string>;
  /** Valid JSON bodies (a POST with none sends no body). */
  bodies?: unknown[];
  /** Valid values per query parameter. */
  query?: Record<string, string[]>;
  /** Valid values per request header the route reads (besides auth). */
  headers?: Record<string, string[]>;
  /**
   * 5xx answers the route gives by design whatever the input (GET /readyz without a worker is
   * 503 E_NOT_READY); any other 5xx is a bug.
   */
  serverErrorsByDesign?: string[];
  /** "busy": send busyAuthHeaders instead of authHeaders (routes that wait for the job's end). */
  auth?: "busy";
}

export interface FuzzApi {
  name: string;
  routes: FuzzRoute[];
  /**
   * Whether a 4xx/5xx body has this API's error shape; returns the error code it carries, or null.
   * `request` is what was sent (a compatibility API accepts cellblock's shape outside its mount and
   * for what the HTTP layer refuses before any route is known).
   */
  errorCode(
    status: number,
    body: Buffer,
    contentType: string | undefined,
    request: Pick<RawRequest, "method" | "target" | "headers">,
  ): string | null;
}

export const routeName = (route: FuzzRoute) => `${route.method} ${route.path}`;

/** One hostile request made from a route (hostile-requests.ts). */
export interface FuzzCase {
  /** Which part was broken: body, content-type, method, path, query, header, auth. */
  kind: string;
  /** One line saying what was sent, for the report. */
  note: string;
  request: RawRequest;
}
