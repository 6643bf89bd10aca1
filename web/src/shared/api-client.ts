// Every request the pages make goes through here, to this origin only (relative URLs; the CSP's
// connect-src 'self' backs that up). With API keys on, the key is asked for once — when a data
// route first answers 401 — and kept in localStorage, so the page works on the next visit without
// asking again; a key the server rejects is asked for again.

const KEY_STORAGE = "cellblock.apiKey";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Asks the person for a key; null when they decline. */
export type KeyPrompt = (reason: "missing" | "rejected") => Promise<string | null>;

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export class ApiClient {
  constructor(private readonly promptForKey: KeyPrompt) {}

  get key(): string | null {
    try {
      return localStorage.getItem(KEY_STORAGE);
    } catch {
      return null; // storage disabled: the key lives only as long as the page
    }
  }

  set key(value: string | null) {
    try {
      if (value === null) localStorage.removeItem(KEY_STORAGE);
      else localStorage.setItem(KEY_STORAGE, value);
    } catch {
      // storage disabled; nothing to remember it in
    }
  }

  /** Any 2xx answer; an error body (or a declined key prompt) throws ApiError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const response = await this.open(method, path, body, "application/json");
    return { status: response.status, body: (await response.json().catch(() => null)) as T };
  }

  /**
   * Any 2xx response, its body unread (an event stream reads it as it comes); an error body (or a
   * declined key prompt) throws ApiError.
   */
  async open(method: string, path: string, body: unknown, accept: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept };
      if (body !== undefined) headers["content-type"] = "application/json";
      const key = this.key;
      if (key) headers.authorization = `Bearer ${key}`;
      const response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
      if (response.ok) return response;
      const parsed = await response.json().catch(() => null);
      if (response.status === 401 && attempt < 3) {
        const entered = await this.promptForKey(key ? "rejected" : "missing");
        if (entered === null) throw errorOf(response.status, parsed);
        this.key = entered;
        continue;
      }
      throw errorOf(response.status, parsed);
    }
  }
}

function errorOf(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
  return new ApiError(
    status,
    error?.code ?? `HTTP_${status}`,
    error?.message ?? `the server answered ${status}`,
    error?.details,
  );
}
