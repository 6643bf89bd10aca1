import { z } from "zod";

// The building blocks of config/env-schema.ts: a variable is its zod schema (with its default)
// plus a one-line description kept beside it for the README's generated configuration table.

export const MiB = 1024 * 1024;

export interface VariableDoc {
  description: string;
  /** Shown instead of the schema's default when that depends on the machine or the checkout. */
  shownDefault?: string;
}

const docs = new WeakMap<z.ZodTypeAny, VariableDoc>();

/** A variable: its schema (with its default) and what it means. */
export function variable<T extends z.ZodTypeAny>(schema: T, description: string, shownDefault?: string): T {
  docs.set(schema, shownDefault === undefined ? { description } : { description, shownDefault });
  return schema;
}

export function docOf(schema: z.ZodTypeAny): VariableDoc | undefined {
  return docs.get(schema);
}

export const whole = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
export const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const commaList = z
  .string()
  .default("")
  .transform((text) =>
    Object.freeze(
      text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  );
/** On for 1/true/yes/on, off for unset, empty, 0/false/no/off; anything else is a configuration error. */
export const flag = z
  .enum(["", "0", "1", "true", "false", "yes", "no", "on", "off"])
  .default("")
  .transform((text) => ["1", "true", "yes", "on"].includes(text));
