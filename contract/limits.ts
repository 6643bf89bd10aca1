import { z } from "zod";

// The per-step limits, named once: a request may set them (checked against the operator's and its
// API key's ceilings), a language may default them, a key may cap them. Every field is optional;
// what is unset falls back along request → language → operator default.
export const StepLimitsSchema = z
  .object({
    /** CPU time, user + system, all processes of one run. */
    cpuTimeMs: z.number().int().positive(),
    /** Wall-clock time of one run. */
    wallTimeMs: z.number().int().positive(),
    /** RAM of one run (no swap); files written to the work dir and /tmp count too. */
    memoryBytes: z.number().int().positive(),
    /** Tasks (processes + threads) alive at once. */
    pids: z.number().int().positive(),
    /** Captured bytes per stream (stdout, stderr). */
    outputBytes: z.number().int().positive(),
  })
  .partial()
  .strict();

export type StepLimits = z.infer<typeof StepLimitsSchema>;
