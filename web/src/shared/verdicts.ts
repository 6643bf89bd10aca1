import { assertNever } from "../../../contract/assert-never.ts";
import type { Verdict } from "../../../contract/job-result.ts";

// How each verdict looks on both pages: a label a person reads and a tone (colour). The switch is
// exhaustive, so a verdict added to the contract fails the type check here until it has a look.

export type Tone = "good" | "bad" | "warn" | "neutral";

export function verdictLook(verdict: Verdict): { label: string; tone: Tone } {
  switch (verdict) {
    case "ok":
      return { label: "OK", tone: "good" };
    case "accepted":
      return { label: "Accepted", tone: "good" };
    case "wrong_answer":
      return { label: "Wrong answer", tone: "bad" };
    case "compile_error":
      return { label: "Compile error", tone: "bad" };
    case "runtime_error":
      return { label: "Runtime error", tone: "bad" };
    case "time_limit":
      return { label: "Time limit", tone: "warn" };
    case "memory_limit":
      return { label: "Memory limit", tone: "warn" };
    case "output_limit":
      return { label: "Output limit", tone: "warn" };
    case "internal_error":
      return { label: "Internal error", tone: "neutral" };
    default:
      return assertNever(verdict);
  }
}

/** A verdict read from a server that may be newer than this page. */
export function lookOf(verdict: string): { label: string; tone: Tone } {
  return isVerdict(verdict) ? verdictLook(verdict) : { label: verdict, tone: "neutral" };
}

const verdicts: readonly string[] = [
  "ok",
  "accepted",
  "wrong_answer",
  "compile_error",
  "runtime_error",
  "time_limit",
  "memory_limit",
  "output_limit",
  "internal_error",
] satisfies Verdict[];

function isVerdict(value: string): value is Verdict {
  return verdicts.includes(value);
}
