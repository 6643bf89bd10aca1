import net from "node:net";

// HTTP/1.1 over a raw socket, for tests that must send what no HTTP client will: odd methods,
// duplicate or malformed headers, request targets with dot segments and bad escapes, bodies that are
// not UTF-8, conflicting framing. The request goes out byte for byte as given (Connection: close,
// so the answer ends with the socket); the answer is read back with just enough parsing to judge it
// (status, headers, de-chunked body).

export interface RawRequest {
  method: string;
  /** The request-target exactly as sent ("/jobs/%2e%2e", "*", "http://host/x"). */
  target: string;
  /** In order, duplicates allowed. Host and Connection: close are added unless present. */
  headers: [string, string][];
  /** Send no Host header at all. */
  noHost?: boolean;
  body?: Buffer;
  /** Add a Content-Length for the body (default: when there is a body and no framing header given). */
  contentLength?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
  /** Whether its end is known from its framing (Content-Length, chunked), not from the socket closing. */
  framed: boolean;
}

export type RawOutcome =
  | { kind: "answered"; response: RawResponse; durationMs: number }
  | { kind: "closed"; durationMs: number; error?: string }
  | { kind: "hung"; durationMs: number };

export function encodeRequest(request: RawRequest, host: string): Buffer {
  const has = (name: string) => request.headers.some(([key]) => key.toLowerCase() === name);
  const headers = [...request.headers];
  if (!has("host") && !request.noHost) headers.unshift(["Host", host]);
  if (!has("connection")) headers.push(["Connection", "close"]);
  const body = request.body ?? Buffer.alloc(0);
  const framed = has("content-length") || has("transfer-encoding");
  if (request.contentLength ?? (body.length > 0 && !framed)) {
    headers.push(["Content-Length", String(body.length)]);
  }
  const head = `${request.method} ${request.target} HTTP/1.1\r\n${headers
    .map(([key, value]) => `${key}: ${value}\r\n`)
    .join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** Sends one request and reads the answer; "hung" when nothing complete came within `timeoutMs`. */
export function sendRaw(port: number, request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      // A complete answer on a connection the server keeps open is an answer, not a hang.
      const response = parseResponse(Buffer.concat(chunks), request.method === "HEAD");
      finish(
        response
          ? { kind: "answered", response, durationMs: elapsed() }
          : { kind: "hung", durationMs: elapsed() },
      );
    }, timeoutMs);
    // write, not end: a half-closed request is one the client gave up on, and Node drops it.
    socket.on("connect", () => socket.write(encodeRequest(request, `127.0.0.1:${port}`)));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // A framed answer is complete even when the server keeps the connection open (keep-alive).
      const response = parseResponse(Buffer.concat(chunks), request.method === "HEAD");
      if (response?.framed) finish({ kind: "answered", response, durationMs: elapsed() });
    });
    // The server may answer and close before it read the whole request (an early 413 or 400): the
    // write side then fails with EPIPE/ECONNRESET while the answer is already in.
    const settle = (error?: Error) => {
      const response = parseResponse(Buffer.concat(chunks), request.method === "HEAD");
      if (response) return finish({ kind: "answered", response, durationMs: elapsed() });
      finish({ kind: "closed", durationMs: elapsed(), ...(error ? { error: error.message } : {}) });
    };
    socket.on("error", settle);
    socket.on("close", () => settle());
  });
}

/** The first final (non-1xx) response in `data`, or null while it is incomplete. */
export function parseResponse(data: Buffer, headRequest = false): RawResponse | null {
  return parseResponses(data, headRequest).find((response) => response.status >= 200) ?? null;
}

/** Every complete response in `data`, in order (pipelined answers on one connection). */
export function parseResponses(data: Buffer, headRequest = false): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = data;
  for (;;) {
    const parsed = parseOne(rest, headRequest);
    if (!parsed) return responses;
    responses.push(parsed.response);
    rest = rest.subarray(parsed.length);
  }
}

function parseOne(data: Buffer, headRequest: boolean): { response: RawResponse; length: number } | null {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const [statusLine, ...lines] = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!Number.isInteger(status)) return null;
  const headers: Record<string, string[]> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
  }
  const start = headEnd + 4;
  if (headRequest || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: Buffer.alloc(0), framed: true }, length: start };
  }
  if (headers["transfer-encoding"]?.some((value) => value.toLowerCase().includes("chunked"))) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = data.indexOf("\r\n", at);
      if (lineEnd < 0) return null;
      const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
      if (!Number.isFinite(size)) return null;
      if (size === 0) {
        const end = data.indexOf("\r\n", lineEnd + 2);
        if (end < 0) return null;
        return { response: { status, headers, body: Buffer.concat(parts), framed: true }, length: end + 2 };
      }
      if (data.length < lineEnd + 2 + size + 2) return null;
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const declared = headers["content-length"]?.[0];
  if (declared === undefined) {
    return { response: { status, headers, body: data.subarray(start), framed: false }, length: data.length };
  }
  const length = Number(declared);
  if (data.length < start + length) return null;
  return {
    response: { status, headers, body: data.subarray(start, start + length), framed: true },
    length: start + length,
  };
}
