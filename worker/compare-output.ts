import { assertNever } from "../contract/assert-never.ts";
import type { CompareMode } from "../contract/job-request.ts";

// Output comparison, one function per mode. All modes compare the whole stdout of a run with the
// test's expected output; they never look at stderr.
//   exact  — byte-for-byte equal (as strings).
//   trim   — trailing whitespace at the end of each line and trailing blank lines are ignored;
//            "\r\n" counts as "\n". The default, and what most judges call "ignore trailing spaces".
//   tokens — equal sequences of whitespace-separated tokens.
//   float  — like tokens, but two tokens that both parse as finite numbers are equal when
//            |a - b| <= 1e-6 or |a - b| <= 1e-6 * |b| (absolute or relative tolerance,
//            b = expected). Other tokens must match exactly.

export const FLOAT_TOLERANCE = 1e-6;

export function compareOutput(mode: CompareMode, actual: string, expected: string): boolean {
  switch (mode) {
    case "exact":
      return actual === expected;
    case "trim":
      return trimLines(actual) === trimLines(expected);
    case "tokens":
      return sameTokens(tokens(actual), tokens(expected), (a, b) => a === b);
    case "float":
      return sameTokens(tokens(actual), tokens(expected), floatTokenEqual);
    default:
      return assertNever(mode);
  }
}

function trimLines(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => line.replace(/\s+$/, ""))
    .join("\n")
    .replace(/\n+$/, "");
}

function tokens(text: string): string[] {
  return text.split(/\s+/).filter((token) => token.length > 0);
}

function sameTokens(a: string[], b: string[], equal: (a: string, b: string) => boolean): boolean {
  return a.length === b.length && a.every((token, i) => equal(token, b[i] as string));
}

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function floatTokenEqual(actual: string, expected: string): boolean {
  if (actual === expected) return true;
  if (!numberPattern.test(actual) || !numberPattern.test(expected)) return false;
  const a = Number(actual);
  const b = Number(expected);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(a - b);
  return diff <= FLOAT_TOLERANCE || diff <= FLOAT_TOLERANCE * Math.abs(b);
}
