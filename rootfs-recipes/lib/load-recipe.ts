import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type Recipe, RecipeSchema } from "../../contract/recipe.ts";
import { RECIPES_DIR } from "./image-paths.ts";

// Recipes are data: rootfs-recipes/<name>/recipe.json, parsed once here with the contract's schema.
// Everything past this point trusts the Recipe type.

export interface LoadedRecipe {
  recipe: Recipe;
  /** The recipe's folder; its optional files/ subfolder is copied into the image. */
  dir: string;
}

/** Parses recipe JSON text; the error names the file and every schema problem with its path. */
export function parseRecipe(text: string, source: string): Recipe {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`recipe ${source}: invalid JSON: ${(error as Error).message}`);
  }
  const parsed = RecipeSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`recipe ${source}: ${problems.join("; ")}`);
  }
  const recipe = parsed.data;
  const folder = path.basename(path.dirname(source));
  if (source.endsWith("recipe.json") && folder !== recipe.name) {
    throw new Error(`recipe ${source}: name "${recipe.name}" must match its folder "${folder}"`);
  }
  const ids = recipe.languages.map((l) => l.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`recipe ${source}: language id "${duplicate}" appears twice`);
  for (const glob of recipe.drop) {
    // Drop globs are resolved inside the image tree; ".." could reach the host.
    if (glob.split("/").includes(".."))
      throw new Error(`recipe ${source}: drop glob "${glob}" contains ".."`);
  }
  return recipe;
}

export async function loadRecipe(name: string, recipesDir = RECIPES_DIR): Promise<LoadedRecipe> {
  const dir = path.join(recipesDir, name);
  const file = path.join(dir, "recipe.json");
  if (!existsSync(file)) throw new Error(`recipe "${name}": ${file} not found`);
  return { recipe: parseRecipe(await readFile(file, "utf8"), file), dir };
}

/** Every recipe folder's name, sorted; "host" included (callers skip it when building). */
export async function listRecipeNames(recipesDir = RECIPES_DIR): Promise<string[]> {
  const entries = await readdir(recipesDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(path.join(recipesDir, e.name, "recipe.json")))
    .map((e) => e.name)
    .sort();
}
