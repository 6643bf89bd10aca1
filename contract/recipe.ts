import { z } from "zod";
import { LanguageSchema } from "./language.ts";

// A rootfs recipe: rootfs-recipes/<name>/recipe.json. The "host" recipe is special: it is not built,
// it names the zero-build layout of read-only binds of the host's /usr, /bin, /lib*.

/** A tiny program that reads stdin and prints a known answer, used to verify an image. */
export const LanguageTestSchema = z
  .object({
    source: z.string(),
    stdin: z.string().default(""),
    expectedOutput: z.string(),
  })
  .strict();

export const RecipeLanguageSchema = LanguageSchema.extend({ test: LanguageTestSchema });

export const RecipeSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]*$/),
    /** "host" for the zero-build layout, otherwise a Debian suite for debootstrap (e.g. "bookworm"). */
    base: z.string(),
    /** Debian packages added on top of minbase. */
    packages: z.array(z.string()).default([]),
    /** Paths (globs) removed from the image after installation: docs, man pages, locales, caches. */
    drop: z.array(z.string()).default([]),
    languages: z.array(RecipeLanguageSchema).min(1),
  })
  .strict();

export type Recipe = z.infer<typeof RecipeSchema>;
export type RecipeLanguage = z.infer<typeof RecipeLanguageSchema>;
