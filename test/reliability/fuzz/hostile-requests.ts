import fc from "fast-check";
import type { RawRequest } from "../raw-http.ts";
import { brokenBody, describeValue } from "./hostile-bodies.ts";
import { jsonBytes } from "./hostile-values.ts";
import type { FuzzContext, FuzzRoute } from "./route-table.ts";

// Hostile requests for one route, as fast-check arbitraries. Each case starts from something
// valid (a route's own body, ids, query, headers) and breaks one thing, so the request gets past
// the checks before it and exercises the one it targets: the JSON body (values, keys, nesting,
// bytes), the content type, the method, the path (ids with dot segments, bad escapes, huge), the
// query, the headers (duplicates, conflicting framing, oversize, control characters) and the API
// key.

export interface FuzzCase {
  /** Which part was broken: body, content-type, method, path, query, header, auth. */
  kind: string;
  /** One line saying what was sent, for the report. */
  note: string;
  request: RawRequest;
}

const contentTypes = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/json; charset=latin1",
  "application/json; charset=bogus",
  "application/json;;;",
  "APPLICATION/JSON",
  "application/json, text/plain",
  "application/vnd.api+json",
  "application/*",
  "*/*",
  "json",
  "",
];

const methods = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "PROPFIND",
  "MKCOL",
  "SEARCH",
  "PURGE",
  "LINK",
  "QUERY",
  "BREW",
  "get",
  "G ET",
  "",
];

const hostileIds = [
  "..",
  "%2e%2e",
  "..%2f..%2fetc%2fpasswd",
  "..%252f",
  "%00",
  "%",
  "%zz",
  "%ff",
  "%c0%af",
  "*",
  ";",
  "%3b",
  "%0d%0aSet-Cookie:%20a=b",
  "%F0%9F%98%80",
  "a/b",
  "a%2fb",
  "..;",
  "x".repeat(300),
  "0".repeat(20_000),
  "00000000-0000-0000-0000-000000000000",
  "__proto__",
  "constructor",
  "-1",
  "1e999",
  "NaN",
];

/** The route's path with every `:name` filled in, by `value(name, valid)`. */
function fillPath(route: FuzzRoute, context: FuzzContext, value: (valid: string) => string): string {
  const ids = route.ids?.(context) ?? {};
  return route.path.replace(/:([A-Za-z]+)/g, (_match, name: string) => value(ids[name] ?? "x"));
}

function validQuery(route: FuzzRoute): fc.Arbitrary<string> {
  const entries = Object.entries(route.query ?? {});
  if (entries.length === 0) return fc.constant("");
  return fc
    .tuple(
      ...entries.map(([name, values]) => fc.option(fc.constantFrom(...values).map((v) => `${name}=${v}`))),
    )
    .map((pairs) => {
      const present = pairs.filter((pair): pair is string => pair !== null);
      return present.length > 0 ? `?${present.join("&")}` : "";
    });
}

/** Headers printable in a request (latin1, no CR/LF), including the odd high byte. */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

export function hostileRequest(route: FuzzRoute, fuzzContext: FuzzContext): fc.Arbitrary<FuzzCase> {
  const context =
    route.auth === "busy" ? { ...fuzzContext, authHeaders: fuzzContext.busyAuthHeaders } : fuzzContext;
  const validPath = fillPath(route, context, (id) => id);
  const routeHeaders: [string, string][] = Object.entries(route.headers ?? {}).flatMap(([name, values]) =>
    values[0] === undefined ? [] : [[name, values[0]] as [string, string]],
  );
  const bodies = route.bodies ?? [];
  const validBody = bodies.length > 0 ? fc.constantFrom(...bodies).map(jsonBytes) : fc.constant(undefined);
  const jsonHeader: [string, string][] = bodies.length > 0 ? [["Content-Type", "application/json"]] : [];
  const base = (headers: [string, string][] = []): [string, string][] => [
    ...context.authHeaders,
    ...routeHeaders,
    ...jsonHeader,
    ...headers,
  ];
  const request = (parts: Partial<RawRequest>, body?: Buffer): RawRequest => ({
    method: route.method,
    target: validPath,
    headers: base(),
    ...(body ? { body } : {}),
    ...parts,
  });

  const cases: fc.WeightedArbitrary<FuzzCase>[] = [];
  if (bodies.length > 0) {
    cases.push({
      weight: 10,
      arbitrary: fc.tuple(brokenBody(bodies), validQuery(route)).map(([{ body, note }, query]) => ({
        kind: "body",
        note,
        request: request({ target: validPath + query }, body),
      })),
    });
    cases.push({
      weight: 2,
      arbitrary: fc.tuple(fc.option(fc.constantFrom(...contentTypes)), validBody).map(([type, body]) => ({
        kind: "content-type",
        note: type === null ? "no Content-Type" : `Content-Type: ${type}`,
        request: {
          method: route.method,
          target: validPath,
          headers: [
            ...context.authHeaders,
            ...routeHeaders,
            ...(type === null ? [] : [["Content-Type", type] as [string, string]]),
          ],
          ...(body ? { body } : {}),
        },
      })),
    });
  }
  cases.push({
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...methods), validBody).map(([method, body]) => ({
      kind: "method",
      note: `method ${JSON.stringify(method)}`,
      request: request({ method }, body),
    })),
  });
  cases.push({
    weight: route.ids ? 4 : 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom(...hostileIds),
          fc.string({ unit: "binary", maxLength: 40 }).map((text) => encodeURIComponent(text)),
          fc.string({ unit: "binary-ascii", maxLength: 40 }).map((text) => text.replace(/[\s#?]/g, "")),
        ),
        fc.constantFrom("id", "prefix", "suffix", "double-slash", "case"),
        validBody,
      )
      .map(([trick, where, body]) => {
        const target =
          where === "id" && route.ids
            ? fillPath(route, context, () => trick)
            : where === "prefix"
              ? `/${trick}${validPath}`
              : where === "suffix"
                ? `${validPath}/${trick}`
                : where === "double-slash"
                  ? `/${validPath}`
                  : validPath.toUpperCase();
        return { kind: "path", note: `target ${describeValue(target)}`, request: request({ target }, body) };
      }),
  });
  const queryNames = [...Object.keys(route.query ?? {}), "__proto__", "constructor", "x"];
  cases.push({
    weight: route.query ? 3 : 1,
    arbitrary: fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.constantFrom(...queryNames),
            fc.oneof(
              fc.constantFrom(
                "",
                "-1",
                "1e3",
                "1.5",
                "NaN",
                "Infinity",
                "0x10",
                "99999999999999999999",
                "%ff",
                "%00",
                "a[b]=c",
              ),
              fc.string({ maxLength: 30 }).map(encodeURIComponent),
            ),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom("", "[]", "[0]", ".a"),
        validBody,
      )
      .map(([pairs, bracket, body]) => {
        const query = pairs.map(([name, value]) => `${name}${bracket}=${value}`).join("&");
        return {
          kind: "query",
          note: `?${query.slice(0, 80)}`,
          request: request({ target: `${validPath}?${query}` }, body),
        };
      }),
  });
  cases.push({ weight: 3, arbitrary: hostileHeaders(route, validPath, base, validBody) });
  cases.push({
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constant<[string, string][]>([]),
          headerText.map((key): [string, string][] => [["Authorization", `Bearer ${key}`]]),
          headerText.map((key): [string, string][] => [["X-API-Key", key]]),
          fc.constantFrom<[string, string][]>(
            [["Authorization", "Bearer"]],
            [["Authorization", "Basic %%%"]],
            [["Authorization", "Basic OmFhYWFhYWFhYWFhYWFhYWFhYQ=="]],
            [["Authorization", "Basic "]],
            [["Authorization", `Digest ${"a".repeat(1000)}`]],
          ),
        ),
        validBody,
      )
      .map(([auth, body]) => ({
        kind: "auth",
        note: auth.length === 0 ? "no API key" : `${auth[0]?.[0]}: ${describeValue(auth[0]?.[1])}`,
        request: {
          method: route.method,
          target: validPath,
          headers: [...auth, ...routeHeaders, ...jsonHeader],
          ...(body ? { body } : {}),
        },
      })),
  });
  return fc.oneof(...cases);
}

function hostileHeaders(
  route: FuzzRoute,
  validPath: string,
  base: (headers?: [string, string][]) => [string, string][],
  validBody: fc.Arbitrary<Buffer | undefined>,
): fc.Arbitrary<FuzzCase> {
  const routeHeaderNames = Object.keys(route.headers ?? {});
  const named = fc.constantFrom(
    "Idempotency-Key",
    "X-Request-Id",
    "Accept",
    "Accept-Encoding",
    "If-None-Match",
    "Range",
    "Expect",
    ...routeHeaderNames,
  );
  type Trick = {
    note: string;
    headers: [string, string][];
    contentLength?: boolean;
    body?: Buffer;
    noHost?: boolean;
  };
  const tricks: fc.Arbitrary<Trick> = fc.oneof(
    fc.tuple(named, headerText, headerText).map(([name, a, b]) => ({
      note: `${name} twice`,
      headers: [
        [name, a],
        [name, b],
      ] as [string, string][],
    })),
    fc.tuple(named, headerText).map(([name, value]) => ({
      note: `${name}: ${describeValue(value)}`,
      headers: [[name, value]] as [string, string][],
    })),
    fc.constantFrom<Trick>(
      {
        note: "two Content-Lengths",
        headers: [
          ["Content-Length", "2"],
          ["Content-Length", "3"],
        ],
        contentLength: false,
        body: Buffer.from("{}}"),
      },
      {
        note: "Content-Length and chunked",
        headers: [
          ["Content-Length", "2"],
          ["Transfer-Encoding", "chunked"],
        ],
        contentLength: false,
        body: Buffer.from("2\r\n{}\r\n0\r\n\r\n"),
      },
      {
        note: "bad chunk size",
        headers: [["Transfer-Encoding", "chunked"]],
        contentLength: false,
        body: Buffer.from("zz\r\n{}\r\n0\r\n\r\n"),
      },
      {
        note: "chunked, never finished",
        headers: [["Transfer-Encoding", "chunked"]],
        contentLength: false,
        body: Buffer.from("2\r\n{}\r\n"),
      },
      {
        note: "Transfer-Encoding: gzip, chunked",
        headers: [["Transfer-Encoding", "gzip, chunked"]],
        contentLength: false,
        body: Buffer.from("2\r\n{}\r\n0\r\n\r\n"),
      },
      { note: "negative Content-Length", headers: [["Content-Length", "-1"]], contentLength: false },
      {
        note: "huge Content-Length",
        headers: [["Content-Length", "99999999999999999999"]],
        contentLength: false,
      },
      {
        note: "Content-Length longer than the body",
        headers: [["Content-Length", "10"]],
        contentLength: false,
        body: Buffer.from("{}"),
      },
      { note: "Content-Encoding: gzip on plain JSON", headers: [["Content-Encoding", "gzip"]] },
      { note: "Content-Encoding: br", headers: [["Content-Encoding", "br"]] },
      { note: "Content-Encoding: bogus", headers: [["Content-Encoding", "bogus"]] },
      { note: "Expect: 100-continue", headers: [["Expect", "100-continue"]] },
      { note: "Expect: teapot", headers: [["Expect", "teapot"]] },
      { note: "64 KiB header", headers: [["X-Big", "a".repeat(65_536)]] },
      {
        note: "2,000 headers",
        headers: Array.from({ length: 2000 }, (_, i) => [`X-H${i}`, "1"] as [string, string]),
      },
      { note: "NUL in a header value", headers: [["X-Request-Id", "a\u0000b"]] },
      {
        note: "header without a colon",
        headers: [["X-No-Colon", ""]].map(() => ["X-No-Colon\u0000", "x"] as [string, string]),
      },
      { note: "space before the colon", headers: [["X-Space ", "1"]] },
      { note: "obs-fold continuation", headers: [["X-Fold", "a\r\n b"]] },
      {
        note: "two Hosts",
        headers: [
          ["Host", "a"],
          ["Host", "b"],
        ],
      },
      { note: "empty Host", headers: [["Host", ""]] },
      { note: "no Host", headers: [], noHost: true },
      {
        note: "Upgrade: websocket",
        headers: [
          ["Connection", "Upgrade"],
          ["Upgrade", "websocket"],
        ],
      },
      {
        note: "Upgrade: h2c",
        headers: [
          ["Connection", "Upgrade, HTTP2-Settings"],
          ["Upgrade", "h2c"],
          ["HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"],
        ],
      },
      { note: "Connection: keep-alive", headers: [["Connection", "keep-alive"]] },
      { note: "X-HTTP-Method-Override: DELETE", headers: [["X-HTTP-Method-Override", "DELETE"]] },
      { note: "Accept: nothing acceptable", headers: [["Accept", "image/png"]] },
      { note: "Range on JSON", headers: [["Range", "bytes=0-1,5-2"]] },
    ),
  );
  return fc.tuple(tricks, validBody).map(([trick, body]) => ({
    kind: "header",
    note: trick.note,
    request: {
      method: route.method,
      target: validPath,
      headers: base(trick.headers),
      ...((trick.body ?? body) ? { body: trick.body ?? body } : {}),
      ...(trick.contentLength === undefined ? {} : { contentLength: trick.contentLength }),
      ...(trick.noHost ? { noHost: true } : {}),
    },
  }));
}
