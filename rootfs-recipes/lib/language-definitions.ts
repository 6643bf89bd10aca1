import { HOST_RECIPE, type LanguageDefinition } from "../../contract/language.ts";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import { listRecipeNames, loadRecipe } from "./load-recipe.ts";

// The static language list: every language of every recipe, the host layout's first, each once
// (the first recipe naming an id provides it). Only recipe JSON is read — no sandbox, no images,
// no spec builder — so the API process loads this to validate requests and list languages before
// any worker has published what it runs (worker/resolve-languages.ts resolves that).

/** A recipe's language without its verification test programs. */
export function definitionOf(
  { test: _test, multiFileTest: _multiFileTest, ...language }: RecipeLanguage,
  recipe: string,
): LanguageDefinition {
  return { ...language, recipe };
}

export async function loadLanguageDefinitions(recipesDir: string): Promise<LanguageDefinition[]> {
  const names = (await listRecipeNames(recipesDir)).filter((name) => name !== HOST_RECIPE);
  const byId = new Map<string, LanguageDefinition>();
  for (const name of [HOST_RECIPE, ...names]) {
    const { recipe } = await loadRecipe(name, recipesDir);
    for (const language of recipe.languages)
      if (!byId.has(language.id)) byId.set(language.id, definitionOf(language, name));
  }
  return [...byId.values()];
}
