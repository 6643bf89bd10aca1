import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { RecipeSchema } from "../../contract/recipe.ts";
import { imageDirName, manifestOf } from "./image-paths.ts";

// manifest.json sits next to an image's rootfs/ (outside what jobs see). It records what the image
// was built from (recipe, hash, mirror, package versions), what it is (tree digest, size) and how
// it verified. Workers trust an image only when its manifest parses and verification passed; import
// trusts a tarball only when the tree it unpacks to matches the manifest's digest.

export const LanguageCheckSchema = z
  .object({
    language: z.string(),
    /** First line of the version command's output inside the image. */
    version: z.string(),
    compileMs: z.number().nullable(),
    runMs: z.number(),
    ok: z.boolean(),
    /** Why it failed: status, exit code and the head of stderr or the unexpected output. */
    error: z.string().nullable(),
  })
  .strict();

export const ImageManifestSchema = z
  .object({
    formatVersion: z.literal(1),
    name: z.string(),
    /** Full sha256 of the recipe (see recipe-hash.ts); the directory name carries its first 12 hex digits. */
    recipeHash: z.string().regex(/^[0-9a-f]{64}$/),
    driverVersion: z.string(),
    recipe: RecipeSchema,
    suite: z.string(),
    mirror: z.string(),
    packages: z.array(z.object({ name: z.string(), version: z.string() }).strict()),
    tree: z
      .object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), sizeBytes: z.number(), entries: z.number() })
      .strict(),
    buildMs: z.number(),
    createdAt: z.string().datetime(),
    /** null until verified; an image is used only when every check is ok. */
    verification: z
      .object({ verifiedAt: z.string().datetime(), ok: z.boolean(), checks: z.array(LanguageCheckSchema) })
      .strict()
      .nullable(),
  })
  .strict();

export type ImageManifest = z.infer<typeof ImageManifestSchema>;
export type LanguageCheck = z.infer<typeof LanguageCheckSchema>;

/** Parses manifest JSON; the error names the source and every problem. */
export function parseManifest(text: string, source: string): ImageManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`manifest ${source}: invalid JSON: ${(error as Error).message}`);
  }
  const parsed = ImageManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`manifest ${source}: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** Reads <dir>/manifest.json, or null when the directory has none. */
export async function readManifest(dir: string): Promise<ImageManifest | null> {
  const file = manifestOf(dir);
  if (!existsSync(file)) return null;
  return parseManifest(await readFile(file, "utf8"), file);
}

export async function writeManifest(dir: string, manifest: ImageManifest): Promise<void> {
  await writeFile(manifestOf(dir), `${JSON.stringify(ImageManifestSchema.parse(manifest), null, 2)}\n`);
}

/** The checks that make an image usable: its name/hash match its directory, and it verified. */
export function manifestProblems(manifest: ImageManifest, dir: string): string[] {
  const problems: string[] = [];
  const expected = imageDirName(manifest.name, manifest.recipeHash);
  if (path.basename(dir) !== expected)
    problems.push(`directory is ${path.basename(dir)}, manifest says ${expected}`);
  if (manifest.recipe.name !== manifest.name)
    problems.push(`recipe name ${manifest.recipe.name} ≠ ${manifest.name}`);
  if (!manifest.verification) problems.push("not verified");
  else if (!manifest.verification.ok) problems.push("verification failed");
  const checked = new Set(manifest.verification?.checks.map((c) => c.language));
  for (const language of manifest.recipe.languages) {
    if (manifest.verification && !checked.has(language.id))
      problems.push(`language ${language.id} was not verified`);
  }
  return problems;
}
