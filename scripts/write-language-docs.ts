// `npm run docs:languages`: records the versions the current images verified with
// (rootfs-recipes/verified-versions.json) and rewrites the README's language table from the recipes.
// Images are read from CELLBLOCK_IMAGES; a language whose current image is not here keeps the
// version recorded before.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadConfig } from "../config/load-config.ts";
import { listImages, newestVerified } from "../rootfs-recipes/lib/image-store.ts";
import {
  imageLanguages,
  readVerifiedVersions,
  renderLanguageTable,
  VERSIONS_FILE,
  withLanguageTable,
} from "../rootfs-recipes/lib/language-table.ts";
import { loadRecipe } from "../rootfs-recipes/lib/load-recipe.ts";
import { recipeHash } from "../rootfs-recipes/lib/recipe-hash.ts";

const { CELLBLOCK_IMAGES: root, RECIPES_DIR: recipesDir } = loadConfig().images;
const versions = await readVerifiedVersions();
const languages = await imageLanguages(recipesDir);
for (const id of Object.keys(versions)) if (!languages.has(id)) delete versions[id];
for (const image of newestVerified(await listImages(root)).values()) {
  const loaded = await loadRecipe(image.manifest.name, recipesDir).catch(() => null);
  if (!loaded || (await recipeHash(loaded.recipe, loaded.dir)) !== image.manifest.recipeHash) continue;
  for (const check of image.manifest.verification?.checks ?? []) {
    if (check.ok && languages.get(check.language)?.recipe.name === image.manifest.name)
      versions[check.language] = { version: check.version, image: path.basename(image.dir) };
  }
}
const sorted = Object.fromEntries(Object.entries(versions).sort(([a], [b]) => (a < b ? -1 : 1)));
await writeFile(VERSIONS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
const readme = path.resolve(import.meta.dirname, "..", "README.md");
const before = await readFile(readme, "utf8");
const after = withLanguageTable(before, await renderLanguageTable(sorted, recipesDir));
if (after !== before) await writeFile(readme, after);
const missing = [...languages.keys()].filter((id) => !sorted[id]);
console.log(
  `${Object.keys(sorted).length} of ${languages.size} languages have a verified version` +
    (missing.length > 0 ? ` (not built here: ${missing.join(", ")})` : "") +
    `; README.md ${after === before ? "already current" : "rewritten"}`,
);
