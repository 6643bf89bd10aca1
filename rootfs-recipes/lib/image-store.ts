import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { type ImageManifest, manifestProblems, readManifest } from "./manifest.ts";

// Reading the images root: which published images exist, which are usable, which is newest per
// recipe. Dot-directories (.tmp-, .built-, .base, .apt-archives) are never images.

export interface StoredImage {
  dir: string;
  manifest: ImageManifest;
  /** Empty when the image may be used (verified, name and hash match its directory). */
  problems: string[];
}

export async function listImages(root: string): Promise<StoredImage[]> {
  if (!existsSync(root)) return [];
  const images: StoredImage[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = path.join(root, entry.name);
    try {
      const manifest = await readManifest(dir);
      if (manifest) images.push({ dir, manifest, problems: manifestProblems(manifest, dir) });
    } catch (error) {
      // An unreadable manifest makes that one image unusable, not the whole root.
      process.stderr.write(`images: skipping ${dir}: ${(error as Error).message}\n`);
    }
  }
  return images;
}

/** Newest usable image of each recipe, keyed by recipe name (newest = latest verification). */
export function newestVerified(images: StoredImage[]): Map<string, StoredImage> {
  const newest = new Map<string, StoredImage>();
  for (const image of images) {
    if (image.problems.length > 0) continue;
    const current = newest.get(image.manifest.name);
    const at = (i: StoredImage) => i.manifest.verification?.verifiedAt ?? "";
    if (!current || at(image) > at(current)) newest.set(image.manifest.name, image);
  }
  return newest;
}
