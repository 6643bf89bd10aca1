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
}

export interface FuzzApi {
  name: string;
  routes: FuzzRoute[];
  /** Whether a 4xx/5xx body has this API's error shape; returns the error code it carries, or null. */
  errorCode(status: number, body: Buffer, contentType: string | undefined): string | null;
}

export const routeName = (route: FuzzRoute) => `${route.method} ${route.path}`;
