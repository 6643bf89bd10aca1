import fc from "fast-check";
import { describeValue } from "./hostile-bodies.ts";
import type { FuzzCase, FuzzRoute } from "./route-table.ts";

// Hostile headers for one route (one case of hostile-requests.ts): a header twice or with a hostile
// value, conflicting or broken body framing, encodings, oversize, malformed lines, Host tricks,
// upgrades — each on an otherwise valid request.

/** Headers printable in a request (latin1, no CR/LF), including the odd high byte. */
export const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

export function hostileHeaders(
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
