import { z } from "zod";
import type { Language } from "./language.ts";
import { LanguageLimitsSchema } from "./language.ts";
import { type OperatorLimits, resolveCompileLimits, resolveRunLimits } from "./resolve-limits.ts";

// A language as GET /languages shows it. Workers publish the list they resolved (with versions
// read from their images) to Redis; the API serves it, or builds it from the static definitions
// before any worker has published. Both go through languageInfo(), so the limits shown are the
// limits a job gets.

export const LanguageInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Read from the image at worker start-up by running the language's versionCommand; null if unknown. */
  version: z.string().nullable(),
  compiled: z.boolean(),
  sourceFile: z.string(),
  limits: LanguageLimitsSchema.required(),
  compileLimits: LanguageLimitsSchema.required().nullable(),
});

export type LanguageInfo = z.infer<typeof LanguageInfoSchema>;

export function languageInfo(
  language: Language,
  version: string | null,
  operator: Pick<OperatorLimits, "run" | "compile">,
): LanguageInfo {
  return {
    id: language.id,
    name: language.name,
    version,
    compiled: language.compile !== null,
    sourceFile: language.sourceFile,
    limits: resolveRunLimits({}, language, operator),
    compileLimits: language.compile === null ? null : resolveCompileLimits(language, operator),
  };
}
