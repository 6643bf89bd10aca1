import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { LanguageImagesSetting } from "../../config/language-images.ts";
import { HOST_RECIPE } from "../../contract/language.ts";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import type { RootfsSpec } from "../../native/types.ts";
import { RECIPES_DIR, rootfsOf } from "./image-paths.ts";
import { listImages, newestVerified } from "./image-store.ts";
import { loadRecipe } from "./load-recipe.ts";

// Which rootfs runs each language, for the worker (at start and when the images root changes).
//
// Precedence, per language id:
//   1. A language only images provide (java, go, …) comes from the newest verified image of the
//      recipe that provides it (ties between recipes: the recipe name first in sort order).
//   2. A language the host layout also provides (python, c, cpp, javascript, bash) stays on the
//      host layout, so a fresh machine runs jobs before any image is built, unless the operator
//      switches it: CELLBLOCK_LANGUAGE_IMAGES="python:python,c:gcc" (language:recipe pairs) or
//      "all" (every language an image provides uses the image); config/language-images.ts parses it.
//   3. A switched language whose image is missing or unverified falls back to the host layout
//      and a warning says so; a host language whose binary is missing on this host is left out.
// Only verified images are considered, so GET /languages lists only languages that ran here.

export interface ResolvedLanguage {
  language: RecipeLanguage;
  image: RootfsSpec;
  /** Version from the image's verification, or from running versionCommand on the host. */
  version: string;
  /** The image directory to mark in use (in-use.ts), or null for the host layout. */
  imageDir: string | null;
}

export interface ResolveOptions {
  /** CELLBLOCK_LANGUAGE_IMAGES: host-layout languages switched onto images. */
  languageImages: LanguageImagesSetting;
  recipesDir?: string;
  onWarning?: (message: string) => void;
}

const run = promisify(execFile);

async function hostVersion(language: RecipeLanguage): Promise<string | null> {
  const [program, ...args] = language.versionCommand;
  if (!program) return null;
  try {
    const { stdout, stderr } = await run(program, args, {
      timeout: 10_000,
      env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
    });
    return (
      `${stdout}\n${stderr}`
        .split("\n")
        .find((l) => l.trim() !== "")
        ?.trim() ?? ""
    );
  } catch {
    return null;
  }
}

export async function resolveLanguages(
  imagesRoot: string,
  options: ResolveOptions,
): Promise<ResolvedLanguage[]> {
  const warn = options.onWarning ?? ((m: string) => process.stderr.write(`languages: ${m}\n`));
  const switched = options.languageImages;
  const host = await loadRecipe(HOST_RECIPE, options.recipesDir ?? RECIPES_DIR);
  const hostIds = new Set(host.recipe.languages.map((l) => l.id));

  const fromImages = new Map<string, ResolvedLanguage & { recipe: string }>();
  const newest = [...newestVerified(await listImages(imagesRoot)).values()].sort((a, b) =>
    a.manifest.name < b.manifest.name ? -1 : 1,
  );
  for (const image of newest) {
    for (const language of image.manifest.recipe.languages) {
      const check = image.manifest.verification?.checks.find((c) => c.language === language.id);
      const wanted =
        switched === "all" || !hostIds.has(language.id) || switched.get(language.id) === image.manifest.name;
      if (!check?.ok || !wanted || fromImages.has(language.id)) continue;
      fromImages.set(language.id, {
        language,
        image: { kind: "image", path: rootfsOf(image.dir) },
        version: check.version,
        imageDir: image.dir,
        recipe: image.manifest.name,
      });
    }
  }
  if (switched !== "all") {
    for (const [id, recipe] of switched) {
      if (fromImages.get(id)?.recipe !== recipe) {
        warn(`${id}: no verified "${recipe}" image providing it under ${imagesRoot}; using the host layout`);
      }
    }
  }

  const resolved: ResolvedLanguage[] = [];
  for (const language of host.recipe.languages) {
    if (fromImages.has(language.id)) continue;
    const version = await hostVersion(language);
    if (version === null)
      warn(`${language.id}: ${language.versionCommand[0]} not runnable on this host; left out`);
    else resolved.push({ language, image: { kind: "host" }, version, imageDir: null });
  }
  for (const { recipe: _recipe, ...entry } of fromImages.values()) resolved.push(entry);
  return resolved.sort((a, b) => (a.language.id < b.language.id ? -1 : 1));
}

/** For logs: "python 3.11.2 (image python-48bcb873ac61)". */
export function describeResolved(entry: ResolvedLanguage): string {
  const where = entry.imageDir ? `image ${path.basename(entry.imageDir)}` : "host layout";
  return `${entry.language.id} ${entry.version} (${where})`;
}
