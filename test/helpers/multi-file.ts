import type { RecipeLanguage } from "../../contract/recipe.ts";
import { imageLanguages } from "../../rootfs-recipes/lib/language-table.ts";
import { loadRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";
import { runJob, type TestService } from "./service.ts";

// A language's multi-file program (its recipe's multiFileTest, the program verification runs) sent
// through the HTTP API as a job with `files`, so the service's own path — validation, work dir with
// subdirectories, compile argv, run — builds it by the language's convention.

/** The recipe language of `id`: the host layout's for host languages, else its image recipe's. */
export async function recipeLanguage(id: string, host: boolean): Promise<RecipeLanguage> {
  const language = host
    ? (await loadRecipe("host")).recipe.languages.find((l) => l.id === id)
    : (await imageLanguages()).get(id)?.language;
  if (!language) throw new Error(`no recipe defines language ${id}`);
  return language;
}

/** Runs the language's multi-file test as a job; returns the job result and what it should print. */
export async function runMultiFileProgram(service: TestService, language: RecipeLanguage) {
  const program = language.multiFileTest;
  if (!program) throw new Error(`language ${language.id} has no multi-file test`);
  // Compilers on a busy machine (D's Phobos, Nim through gcc) may take longer than /run's default wait.
  const result = await runJob(
    service,
    {
      language: language.id,
      files: program.files.map((file) => ({ path: file.path, content: file.content })),
      tests: [{ stdin: program.stdin, expectedOutput: program.expectedOutput }],
      compare: "exact",
    },
    "?waitMs=120000",
  );
  return { result, files: program.files.map((f) => f.path) };
}
