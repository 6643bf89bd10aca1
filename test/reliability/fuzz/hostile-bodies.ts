import fc from "fast-check";
import { garbageBody, hostileKey, hostileValue, jsonBytes, RawJson, setOwn } from "./hostile-values.ts";

// A route's valid JSON body broken in exactly one place (a value, a key, a duplicate, the bytes), for
// hostile-requests.ts; `describeValue` is the one-line form of a sent value used in its report.

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const here = [prefix];
  if (Array.isArray(value))
    return here.concat(value.flatMap((item, index) => pathsOf(item, [...prefix, index])));
  if (value !== null && typeof value === "object") {
    return here.concat(Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key])));
  }
  return here;
}

const clone = <T>(value: T): T => structuredClone(value);

function parentOf(root: unknown, path: Path): Record<string | number, unknown> | null {
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  return node !== null && typeof node === "object" ? node : null;
}

export const describeValue = (value: unknown): string => {
  if (value instanceof RawJson) return value.label;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}… (${text.length} chars)` : text;
};

/** One valid body broken in one place. */
export function brokenBody(bodies: unknown[]): fc.Arbitrary<{ body: Buffer; note: string }> {
  const withPath = fc
    .constantFrom(...bodies)
    .chain((body) => fc.tuple(fc.constant(body), fc.constantFrom(...pathsOf(body))));
  const replaced = fc.tuple(withPath, hostileValue).map(([[body, path], value]) => {
    if (path.length === 0) return { body: jsonBytes(value), note: `body = ${describeValue(value)}` };
    const copy = clone(body);
    (parentOf(copy, path) as Record<string | number, unknown>)[path.at(-1) as string] = value;
    return { body: jsonBytes(copy), note: `${path.join(".")} = ${describeValue(value)}` };
  });
  const removed = withPath
    .filter(([, path]) => path.length > 0)
    .map(([body, path]) => {
      const copy = clone(body);
      const parent = parentOf(copy, path) as Record<string | number, unknown>;
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else delete parent[path.at(-1) as string];
      return { body: jsonBytes(copy), note: `without ${path.join(".")}` };
    });
  const added = fc.tuple(withPath, hostileKey, hostileValue).map(([[body, path], key, value]) => {
    const copy = clone(body);
    const target =
      path.length === 0 ? copy : (parentOf(copy, path) as Record<string, unknown>)[path.at(-1) as string];
    if (target === null || typeof target !== "object" || Array.isArray(target)) {
      return { body: jsonBytes(copy), note: "unchanged" };
    }
    setOwn(target as Record<string, unknown>, key, value);
    return { body: jsonBytes(copy), note: `${[...path, key].join(".")} added = ${describeValue(value)}` };
  });
  // A key given twice: JSON.parse keeps the last, so the second carries the hostile value.
  const duplicated = fc.tuple(fc.constantFrom(...bodies), hostileValue).map(([body, value]) => {
    const text = jsonBytes(body);
    const key = Object.keys(body as object)[0] ?? "language";
    const tail = Buffer.concat([Buffer.from(`,${JSON.stringify(key)}:`), jsonBytes(value), Buffer.from("}")]);
    return {
      body: Buffer.concat([text.subarray(0, text.length - 1), tail]),
      note: `${key} twice, then ${describeValue(value)}`,
    };
  });
  const truncated = fc.constantFrom(...bodies).chain((body) => {
    const text = jsonBytes(body);
    return fc.integer({ min: 0, max: text.length - 1 }).map((at) => ({
      body: text.subarray(0, at),
      note: `cut after ${at} of ${text.length} bytes`,
    }));
  });
  const garbage = garbageBody.map((body) => ({
    body,
    note: `raw body ${describeValue(body.toString("latin1"))}`,
  }));
  return fc.oneof(
    { weight: 6, arbitrary: replaced },
    { weight: 2, arbitrary: removed },
    { weight: 3, arbitrary: added },
    { weight: 1, arbitrary: duplicated },
    { weight: 1, arbitrary: truncated },
    { weight: 2, arbitrary: garbage },
  );
}
