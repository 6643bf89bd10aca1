// CELLBLOCK_LANGUAGE_IMAGES: which host-layout languages run from a built image instead
// (rootfs-recipes/lib/resolve-images.ts applies it). "all", or comma-separated language:recipe
// pairs such as "python:python,c:gcc"; empty = none.

export type LanguageImagesSetting = "all" | ReadonlyMap<string, string>;

export function parseLanguageImages(value: string | undefined): LanguageImagesSetting {
  const text = (value ?? "").trim();
  if (text === "all") return "all";
  const pairs = new Map<string, string>();
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [language, recipe, extra] = item.split(":");
    if (!language || !recipe || extra !== undefined) {
      throw new Error(`"${item}" is not language:recipe (or use "all")`);
    }
    pairs.set(language, recipe);
  }
  return pairs;
}
