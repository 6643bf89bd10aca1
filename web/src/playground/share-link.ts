import type { CompareMode, JobTest } from "../../../contract/job-request.ts";

// A share link carries the program in the URL's fragment: language, source, stdin, args, tests and
// compare mode, as JSON compressed with deflate-raw and base64url-encoded (#p=v1.…). Nothing is
// stored on the server, so a link never expires with a job's TTL, works against any cellblock
// with that language, and the fragment is never sent in a request, so the program stays out of
// server and proxy logs. Browsers take URLs of several megabytes; a 64 KiB program compresses to
// far less.

export interface SharedProgram {
  language: string;
  source: string;
  stdin: string;
  args: string[];
  tests: JobTest[];
  compare: CompareMode;
}

const PREFIX = "v1.";
const compareModes: readonly string[] = [
  "exact",
  "trim",
  "tokens",
  "float",
  "lines",
  "case_insensitive",
  "yes_no",
] satisfies CompareMode[];

async function transform(bytes: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export async function encodeProgram(program: SharedProgram): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(program));
  return PREFIX + toBase64Url(await transform(json, new CompressionStream("deflate-raw")));
}

/** The program in a link's fragment value, or null when it is not one of ours (or is damaged). */
export async function decodeProgram(encoded: string): Promise<SharedProgram | null> {
  if (!encoded.startsWith(PREFIX)) return null;
  try {
    const bytes = await transform(
      fromBase64Url(encoded.slice(PREFIX.length)),
      new DecompressionStream("deflate-raw"),
    );
    return programFrom(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return null;
  }
}

const isString = (value: unknown): value is string => typeof value === "string";

/** Checks a decoded program field by field: a link is input from anyone (and storage from any version). */
export function programFrom(value: unknown): SharedProgram | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const tests = Array.isArray(v.tests) ? v.tests : [];
  const validTests = tests.every(
    (t) => typeof t === "object" && t !== null && isString(t.stdin) && isString(t.expectedOutput),
  );
  if (!isString(v.language) || !isString(v.source) || !validTests) return null;
  return {
    language: v.language,
    source: v.source,
    stdin: isString(v.stdin) ? v.stdin : "",
    args: Array.isArray(v.args) ? v.args.filter(isString) : [],
    tests: tests.map((t: JobTest) => ({ stdin: t.stdin, expectedOutput: t.expectedOutput })),
    compare: isString(v.compare) && compareModes.includes(v.compare) ? (v.compare as CompareMode) : "trim",
  };
}

/** The link for a program: this page's address with the program in the fragment. */
export async function shareUrl(program: SharedProgram, base: string = location.href): Promise<string> {
  const url = new URL(base);
  url.hash = `p=${await encodeProgram(program)}`;
  return url.toString();
}

/** The program in the current address's fragment, if there is one. */
export async function programFromHash(hash: string = location.hash): Promise<SharedProgram | null> {
  const match = /^#p=(.+)$/.exec(hash);
  return match?.[1] ? decodeProgram(match[1]) : null;
}
