import { z } from "zod";
import { StepLimitsSchema } from "./limits.ts";

// A language is data, not a code path: the worker turns one of these plus a job into sandbox runs.
// Recipes in rootfs-recipes/<image>/recipe.json list the languages their image provides; the
// built-in "host" image (read-only binds of the host's /usr, /bin, /lib*) needs no build.

/** Per-step limits a language may default; every field is optional and falls back to the service defaults. */
export const LanguageLimitsSchema = StepLimitsSchema;

/** The runtime name a Piston client asks for, and the other names it accepts (Piston's `aliases`). */
export const PistonRuntimeSchema = z
  .object({
    name: z.string().min(1),
    aliases: z.array(z.string().min(1)),
  })
  .strict();

export const LanguageSchema = z
  .object({
    /** Stable id used in requests, e.g. "python". */
    id: z.string().regex(/^[a-z][a-z0-9_+-]*$/),
    /** Display name, e.g. "Python 3". */
    name: z.string().min(1),
    /** argv run inside the image that prints the version (first line of stdout or stderr is kept). */
    versionCommand: z.array(z.string()).min(1),
    /** Source file name in the work dir, e.g. "main.py". */
    sourceFile: z.string().min(1),
    /** argv of the compile step (absolute program path), or null for interpreted languages. */
    compile: z.array(z.string()).min(1).nullable(),
    /** argv of the run step (absolute program path); the job's args are appended. */
    run: z.array(z.string()).min(1),
    /** Extra environment for both steps (PATH, HOME, LANG are set by the worker). */
    env: z.record(z.string(), z.string()).default({}),
    /** Defaults for run steps. */
    limits: LanguageLimitsSchema.default({}),
    /** Defaults for the compile step. */
    compileLimits: LanguageLimitsSchema.default({}),
    /** Judge0 CE language ids this language answers to (the first is its own; the rest are aliases). */
    judge0Ids: z.array(z.number().int().positive()).optional(),
    /** The Piston runtime this language answers to; absent when Piston has no such runtime. */
    piston: PistonRuntimeSchema.optional(),
  })
  .strict();

export type Language = z.infer<typeof LanguageSchema>;
export type LanguageLimits = z.infer<typeof LanguageLimitsSchema>;
export type PistonRuntime = z.infer<typeof PistonRuntimeSchema>;

/** The recipe of the zero-build layout (read-only binds of the host's /usr, /bin, /lib*). */
export const HOST_RECIPE = "host";

/**
 * A language as the recipes define it, without the sandbox: what the API validates requests
 * against. `recipe` is the recipe that provides it first (the host layout before any image).
 */
export interface LanguageDefinition extends Language {
  recipe: string;
}
