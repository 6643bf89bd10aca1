import path from "node:path";

// Where images live. One root directory holds every image (content-addressed by recipe hash),
// the debootstrap base cache, the shared apt download cache and temporary build trees. Temporary
// trees sit inside the same root so the final rename is atomic (same filesystem).
//
//   <root>/<name>-<hash12>/manifest.json   what was built, from what, and how it verified
//   <root>/<name>-<hash12>/rootfs/         the tree jobs see as "/" (read-only)
//   <root>/<name>-<hash12>/.in-use/<pid>   a worker using this image (kept out of the jobs' view)
//   <root>/.base/<suite>-<mirror12>/       debootstrap --variant=minbase result, reused by builds
//   <root>/.apt-archives/<suite>-<mirror12>/  downloaded .debs, reused by builds
//   <root>/.built-<name>-<hash12>/         built but not yet verified (resumable)
//   <root>/.tmp-*                          in progress; removed on failure or by gc

/** Default images root (CELLBLOCK_IMAGES, config/env-schema.ts). */
export const DEFAULT_IMAGES_ROOT = "/var/lib/cellblock/images";

/** The recipes folder (this package's parent directory). */
export const RECIPES_DIR = path.resolve(import.meta.dirname, "..");

export function imageDirName(name: string, hash: string): string {
  return `${name}-${hash.slice(0, 12)}`;
}

export function imageDir(root: string, name: string, hash: string): string {
  return path.join(root, imageDirName(name, hash));
}

export function builtDir(root: string, name: string, hash: string): string {
  return path.join(root, `.built-${imageDirName(name, hash)}`);
}

export function rootfsOf(dir: string): string {
  return path.join(dir, "rootfs");
}

export function manifestOf(dir: string): string {
  return path.join(dir, "manifest.json");
}

export function inUseDirOf(dir: string): string {
  return path.join(dir, ".in-use");
}
