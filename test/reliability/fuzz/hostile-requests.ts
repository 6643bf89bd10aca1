import fc from "fast-check";
import type { RawRequest } from "../raw-http.ts";
import { brokenBody, describeValue } from "./hostile-bodies.ts";
import { headerText, hostileHeaders } from "./hostile-headers.ts";
import { jsonBytes } from "./hostile-values.ts";
import type { FuzzCase, FuzzContext, FuzzRoute } from "./route-table.ts";

// Hostile requests for one route, as fast-check arbitraries. Each case starts from something
// valid (a route's own body, ids, query, headers) and breaks one thing, so the request gets past
// the checks before it and exercises the one it targets: the JSON body (values, keys, nesting,
// bytes), the content type, the method, the path (ids with dot segments, bad escapes, huge), the
// query, the headers (duplicates, conflicting framing, oversize, control characters) and the API
// key.

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
