import type { Verdict } from "../../../contract/job-result.ts";

// How each verdict looks on both pages: a label a person reads and a tone (colour). The record is
// keyed by the contract's Verdict, so a verdict added there fails the type check here until it has
// a look.

export type Tone = "good" | "bad" | "warn" | "neutral";

const looks: Record<Verdict, { label: string; tone: Tone }> = {
  ok: { label: "OK", tone: "good" },
  accepted: { label: "Accepted", tone: "good" },
  wrong_answer: { label: "Wrong answer", tone: "bad" },
  compile_error: { label: "Compile error", tone: "bad" },
  runtime_error: { label: "Runtime error", tone: "bad" },
  time_limit: { label: "Time limit", tone: "warn" },
  memory_limit: { label: "Memory limit", tone: "warn" },
  output_limit: { label: "Output limit", tone: "warn" },
  internal_error: { label: "Internal error", tone: "neutral" },
  presentation_error: { label: "Presentation error", tone: "bad" },
  partial: { label: "Partial", tone: "warn" },
  checker_error: { label: "Checker error", tone: "neutral" },
  skipped: { label: "Skipped", tone: "neutral" },
};

export function verdictLook(verdict: Verdict): { label: string; tone: Tone } {
  return looks[verdict];
}

/** A verdict read from a server that may be newer than this page. */
export function lookOf(verdict: string): { label: string; tone: Tone } {
  return Object.hasOwn(looks, verdict) ? looks[verdict as Verdict] : { label: verdict, tone: "neutral" };
}
