import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import type { Recipe } from "../../contract/recipe.ts";

// An image's identity: sha256 over the canonical recipe JSON, the files/ folder (paths, modes,
// contents) and the driver version. Anything that changes the built tree must change the hash, and
// nothing else may: key order and whitespace in recipe.json do not count, so reformatting a recipe
// is a no-op rebuild. Bump DRIVER_VERSION whenever the driver changes what it puts in an image.

export const DRIVER_VERSION = "cellblock-rootfs-driver/2";

/** JSON with object keys sorted at every level, so equal data always serializes equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Adds files/ to the hash: each entry's relative path, type, permission bits and content. */
async function hashFilesDir(hash: ReturnType<typeof createHash>, root: string, rel = ""): Promise<void> {
  const entries = (await readdir(path.join(root, rel))).sort();
  for (const name of entries) {
    const relPath = path.posix.join(rel, name);
    const full = path.join(root, relPath);
    const stat = await lstat(full);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isDirectory()) {
      hash.update(`dir\0${relPath}\0${mode}\0`);
      await hashFilesDir(hash, root, relPath);
    } else if (stat.isSymbolicLink()) {
      hash.update(`link\0${relPath}\0${await readlink(full)}\0`);
    } else if (stat.isFile()) {
      const content = await readFile(full);
      hash.update(`file\0${relPath}\0${mode}\0${content.length}\0`);
      hash.update(content);
    } else {
      throw new Error(`recipe files: ${full} is not a file, directory or symlink`);
    }
  }
}

/** Full hex sha256 identifying the image built from this recipe folder. */
export async function recipeHash(recipe: Recipe, recipeDir: string): Promise<string> {
  const hash = createHash("sha256");
  hash.update(`${DRIVER_VERSION}\n`);
  hash.update(`${canonicalJson(recipe)}\n`);
  const filesDir = path.join(recipeDir, "files");
  if (existsSync(filesDir)) await hashFilesDir(hash, filesDir);
  return hash.digest("hex");
}
