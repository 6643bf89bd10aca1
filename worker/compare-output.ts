import { assertNever } from "../contract/assert-never.ts";
import { type Compare, DEFAULT_FLOAT_EPSILON } from "../contract/compare.ts";

// Output comparison: the built-in checkers (contract/compare.ts), one function per mode. All
// compare the whole stdout of a run (or the output file a test names) with the test's expected
// output; they never look at stderr.
//   exact            — byte-for-byte equal (as strings).
//   trim             — trailing whitespace at the end of each line and trailing blank lines are
//                      ignored; "\r\n" counts as "\n". The default.
//   tokens           — equal sequences of whitespace-separated tokens (testlib wcmp).
//   lines            — the same lines, each an equal token sequence; trailing blank lines are
//                      ignored (testlib lcmp).
//   float            — like tokens, but two tokens that both parse as finite numbers are equal when
//                      |a - b| <= absoluteEpsilon or |a - b| <= relativeEpsilon * |b|
//                      (b = expected; both 1e-6 unless given). Other tokens must match exactly.
//   case_insensitive — like tokens, ignoring letter case.
//   yes_no           — like case_insensitive, and every expected token is YES or NO (a test
//                      whose answer is anything else never passes: the test itself is wrong).

export const FLOAT_TOLERANCE = DEFAULT_FLOAT_EPSILON;

export function compareOutput(compare: Compare, actual: string, expected: string): boolean {
  if (typeof compare === "object") {
    const equal = floatEqual(compare.absoluteEpsilon, compare.relativeEpsilon);
    return sameTokens(tokens(actual), tokens(expected), equal);
  }
  switch (compare) {
    case "exact":
      return actual === expected;
    case "trim":
      return trimLines(actual) === trimLines(expected);
    case "tokens":
      return sameTokens(tokens(actual), tokens(expected), (a, b) => a === b);
    case "lines":
      return sameLines(actual, expected);
    case "float":
      return sameTokens(tokens(actual), tokens(expected), floatTokenEqual);
    case "case_insensitive":
      return sameTokens(tokens(actual), tokens(expected), caseInsensitiveEqual);
    case "yes_no":
      return sameTokens(tokens(actual), tokens(expected), yesNoEqual);
    default:
      return assertNever(compare);
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

function sameLines(actual: string, expected: string): boolean {
  const lines = (text: string) => trimLines(text).split("\n").map(tokens);
  const a = lines(actual);
  const b = lines(expected);
  return a.length === b.length && a.every((line, i) => sameTokens(line, b[i] as string[], (x, y) => x === y));
}

function caseInsensitiveEqual(actual: string, expected: string): boolean {
  return actual.toLowerCase() === expected.toLowerCase();
}

function yesNoEqual(actual: string, expected: string): boolean {
  const answer = expected.toUpperCase();
  return (answer === "YES" || answer === "NO") && actual.toUpperCase() === answer;
}

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function floatEqual(absoluteEpsilon: number, relativeEpsilon: number) {
  return (actual: string, expected: string): boolean => {
    if (actual === expected) return true;
    if (!numberPattern.test(actual) || !numberPattern.test(expected)) return false;
    const a = Number(actual);
    const b = Number(expected);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
    const diff = Math.abs(a - b);
    return diff <= absoluteEpsilon || diff <= relativeEpsilon * Math.abs(b);
  };
}

export const floatTokenEqual = floatEqual(FLOAT_TOLERANCE, FLOAT_TOLERANCE);
