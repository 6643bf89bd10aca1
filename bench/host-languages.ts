import type { Config } from "../config/load-config.ts";
import { HOST_RECIPE } from "../contract/language.ts";
import { loadLanguageDefinitions } from "../rootfs-recipes/lib/language-definitions.ts";
import type { RunnableLanguage } from "../worker/resolve-languages.ts";

/** The host layout's languages, as a worker runs them without images: for sandbox-only baselines. */
export async function hostLanguages(config: Pick<Config, "images">): Promise<Map<string, RunnableLanguage>> {
  const definitions = await loadLanguageDefinitions(config.images.RECIPES_DIR);
  return new Map(
    definitions
      .filter((definition) => definition.recipe === HOST_RECIPE)
      .map(({ recipe: _recipe, ...language }) => [language.id, { ...language, rootfs: { kind: "host" } }]),
  );
}
