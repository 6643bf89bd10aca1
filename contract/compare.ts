import { z } from "zod";

// How a run's output is judged without a program: the built-in checkers, by name. They follow
// testlib's standard checkers (wcmp, lcmp, rcmp, yesno) and are what `compare` names on a job or
// on one test. A custom checker program (contract/checker.ts) replaces them when a job has one.

/**
 * exact — byte-for-byte equal; trim — per-line trailing whitespace, trailing blank lines and CRLF
 * ignored (the default); tokens — equal whitespace-separated tokens (testlib wcmp); lines — the
 * same lines, each compared as tokens (testlib lcmp); float — tokens, numbers within an epsilon
 * (testlib rcmp); case_insensitive — tokens, ignoring letter case; yes_no — every token is YES or
 * NO in any case and matches (testlib yesno).
 */
export const CompareModeSchema = z.enum([
  "exact",
  "trim",
  "tokens",
  "lines",
  "float",
  "case_insensitive",
  "yes_no",
]);

/** The default tolerance of `float`, absolute and relative (testlib's rcmp6). */
export const DEFAULT_FLOAT_EPSILON = 1e-6;

/** `float` with its own tolerances: two numbers match when either difference is within its epsilon. */
export const FloatCompareSchema = z
  .object({
    mode: z.literal("float"),
    /** |actual - expected| <= absoluteEpsilon. */
    absoluteEpsilon: z.number().min(0).max(1e9).default(DEFAULT_FLOAT_EPSILON),
    /** |actual - expected| <= relativeEpsilon * |expected|. */
    relativeEpsilon: z.number().min(0).max(1e9).default(DEFAULT_FLOAT_EPSILON),
  })
  .strict();

/** A built-in checker: a mode's name, or `float` with its tolerances. */
export const CompareSchema = z.union([CompareModeSchema, FloatCompareSchema]);

export type CompareMode = z.infer<typeof CompareModeSchema>;
export type FloatCompare = z.infer<typeof FloatCompareSchema>;
export type Compare = z.infer<typeof CompareSchema>;
