import type { Language } from "./language.ts";

// What every compile and run step sees besides its argv, whoever starts it (the worker for jobs,
// the images CLI when it verifies an image): the job's files at BOX_DIR and an exact environment
// (nothing is inherited from the worker) of a base plus the language's own variables.

/** Where a job's work dir is bound inside its sandbox. */
export const BOX_DIR = "/box";

const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: "/tmp",
  LANG: "C.UTF-8",
};

/** The exact environment of a step of `language`: the base, then the language's `env`. */
export function stepEnvironment(language: Pick<Language, "env">): Record<string, string> {
  return { ...BASE_ENV, ...language.env };
}
