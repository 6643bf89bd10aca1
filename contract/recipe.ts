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

/**
 * A program of several files laid out by the language's build convention (a Java package, a Go
 * module, a Rust crate with modules, C with headers…): verification compiles and runs it like a job
 * sent as `files`, so the compile argv is known to build more than the entry file.
 */
export const MultiFileTestSchema = z
  .object({
    files: z.array(z.object({ path: z.string().min(1), content: z.string() }).strict()).min(2),
    stdin: z.string().default(""),
    expectedOutput: z.string(),
  })
  .strict();

export const RecipeLanguageSchema = LanguageSchema.extend({
  test: LanguageTestSchema,
  multiFileTest: MultiFileTestSchema.optional(),
});

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
export type MultiFileTest = z.infer<typeof MultiFileTestSchema>;
