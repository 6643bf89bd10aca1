import type { z } from "zod";

// Values read back from Redis are JSON text written by some process of some version: parsed with
// their schema, never cast. Callers decide what an unreadable value means (absent, skipped).

/** The value of `raw` if it is JSON matching `schema`, else null. */
export function parseJsonWith<S extends z.ZodTypeAny>(schema: S, raw: string): z.output<S> | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
