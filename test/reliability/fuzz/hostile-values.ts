import fc from "fast-check";

// The values a hostile or broken client puts into JSON, and how they are written as bytes. JSON
// text is produced by our own serializer so a case can hold what JSON.stringify cannot express:
// number tokens that parse to Infinity or lose precision, nesting deeper than any stack, invalid
// UTF-8 inside strings, and own `__proto__` keys.

/** JSON text inserted verbatim (number tokens, deep nesting, invalid UTF-8 inside quotes). */
export class RawJson {
  constructor(
    readonly bytes: Buffer,
    readonly label: string,
  ) {}
}

const raw = (text: string, label = text) => new RawJson(Buffer.from(text, "latin1"), label);

export function jsonBytes(value: unknown): Buffer {
  const parts: Buffer[] = [];
  const write = (item: unknown) => {
    if (item instanceof RawJson) return void parts.push(item.bytes);
    if (Array.isArray(item)) {
      parts.push(Buffer.from("["));
      item.forEach((entry, index) => {
        if (index > 0) parts.push(Buffer.from(","));
        write(entry);
      });
      return void parts.push(Buffer.from("]"));
    }
    if (item !== null && typeof item === "object") {
      parts.push(Buffer.from("{"));
      Object.keys(item).forEach((key, index) => {
        if (index > 0) parts.push(Buffer.from(","));
        parts.push(Buffer.from(`${JSON.stringify(key)}:`));
        write((item as Record<string, unknown>)[key]);
      });
      return void parts.push(Buffer.from("}"));
    }
    parts.push(Buffer.from(JSON.stringify(item) ?? "null"));
  };
  write(value);
  return Buffer.concat(parts);
}

/** Sets an own, enumerable property even for `__proto__` (an assignment would set the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}

const numberTokens = ["1e999", "-1e999", "1e-999", "123456789012345678901234567890", "-0", "0.1e1", "1E2"];
const nastyStrings = [
  "",
  " ",
  "NaN",
  "Infinity",
  "-Infinity",
  "null",
  "true",
  "0x10",
  "1e999",
  "-1",
  "\u0000",
  "\ud800",
  "\udfff\ud800",
  "\u202e",
  "../../../etc/passwd",
  "/etc/passwd",
  "..",
  "python",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "<script>alert(1)</script>",
  "%00",
  "%ff",
  "$(id)",
  "`id`",
  "\r\nX-Injected: 1",
  "http://127.0.0.1:6379/",
  "file:///etc/passwd",
  "https://user:pass@93.184.215.14/",
  "javascript:alert(1)",
  "http://[::1]/",
  "http://169.254.169.254/latest/meta-data/",
  "http://0x7f000001/",
  "😀",
];
const nastyNumbers = [
  0,
  -0,
  -1,
  1,
  1.5,
  0.1,
  1e308,
  -1e308,
  5e-324,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
];

const deepNesting = fc
  .tuple(fc.integer({ min: 2, max: 150_000 }), fc.constantFrom("[", '{"a":'))
  .map(([depth, open]) =>
    raw(open.repeat(depth) + (open === "[" ? "]" : "}").repeat(depth), `nesting ${open} × ${depth}`),
  );

/** A string of up to a few MiB (above the body limit, the answer must be 413). */
const enormousString = fc
  .integer({ min: 1_000, max: 3_000_000 })
  .map((length) => new RawJson(Buffer.from(`"${"x".repeat(length)}"`), `string of ${length} bytes`));

/** A JSON string holding bytes that are not UTF-8 (lone continuation, overlong, surrogate, 0xff). */
const invalidUtf8 = fc
  .constantFrom(
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0x80],
    [0xed, 0xa0, 0x80],
    [0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  )
  .map(
    (bytes) =>
      new RawJson(
        Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')]),
        `invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(" ")}`,
      ),
  );

const longArray = fc
  .tuple(fc.integer({ min: 65, max: 200_000 }), fc.constantFrom<unknown>(1, "x", {}, null, []))
  .map(([length, item]) => new RawJson(jsonBytes(new Array(length).fill(item)), `array of ${length}`));

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nastyStrings) },
  { weight: 3, arbitrary: fc.constantFrom(...nastyNumbers) },
  { weight: 2, arbitrary: fc.constantFrom(...numberTokens).map((token) => raw(token)) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { "": "" }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: enormousString },
  { weight: 2, arbitrary: invalidUtf8 },
  { weight: 1, arbitrary: longArray },
);

export const hostileKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "", " "),
  fc.string({ unit: "binary", maxLength: 20 }),
);

/** Bytes a broken client sends as a whole "JSON" body. */
export const garbageBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      "",
      "null",
      "true",
      "0",
      '"a string"',
      "[]",
      "{",
      "}",
      "{}}",
      '{"a":1,}',
      "{'a':1}",
      "NaN",
      "Infinity",
      "\ufeff{}",
      '{"a":1}garbage',
      '{"a":1}\n{"b":2}',
      "[".repeat(100_000),
      "{}".padEnd(2_000_000, " "),
    )
    .map((text) => Buffer.from(text, "utf8")),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: "binary", maxLength: 300 }).map((text) => Buffer.from(text, "utf8")),
);
