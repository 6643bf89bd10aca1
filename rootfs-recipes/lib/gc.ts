import { existsSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { assertNoMountsUnder } from "./chroot-mounts.ts";
import { imageDirName, inUseDirOf, RECIPES_DIR } from "./image-paths.ts";
import { listImages, newestVerified } from "./image-store.ts";
import { listRecipeNames, loadRecipe } from "./load-recipe.ts";
import { recipeHash } from "./recipe-hash.ts";
import { progress } from "./run-command.ts";
import { pruneObjects } from "./shared-files.ts";

// Old images stay until no worker uses them. A worker marks use with an empty file
// <image>/.in-use/<pid> while it may start runs on that image and removes it when it switches
// away or exits; a file whose pid is dead (a crashed worker) no longer protects the image.
// Kept: the newest verified image of each recipe. Removed: every other image not in use,
// .built- trees already published or of a superseded recipe, and .tmp- trees whose builder died;
// then the shared files (shared-files.ts) no remaining tree links to.

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else; still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Live pids named under <image>/.in-use/. */
export async function livePidsUsing(dir: string): Promise<number[]> {
  const marks = inUseDirOf(dir);
  if (!existsSync(marks)) return [];
  const pids = (await readdir(marks)).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
  return pids.filter(pidAlive);
}

export interface GcResult {
  removed: string[];
  kept: string[];
  /** Shared files removed from the store (shared-files.ts) because no image links them any more. */
  prunedObjects: number;
}

/** <name>-<hash12> of every buildable recipe as it is now. */
async function currentImageNames(recipesDir = RECIPES_DIR): Promise<Set<string>> {
  const names = new Set<string>();
  for (const name of await listRecipeNames(recipesDir)) {
    if (name === "host") continue;
    const { recipe, dir } = await loadRecipe(name, recipesDir);
    names.add(imageDirName(name, await recipeHash(recipe, dir)));
  }
  return names;
}

export async function collectGarbage(
  root: string,
  options: { dryRun?: boolean; recipesDir?: string } = {},
): Promise<GcResult> {
  const result: GcResult = { removed: [], kept: [], prunedObjects: 0 };
  const remove = async (dir: string, why: string) => {
    progress("gc", `${options.dryRun ? "would remove" : "remove"} ${path.basename(dir)} (${why})`);
    result.removed.push(dir);
    if (options.dryRun) return;
    await assertNoMountsUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  const images = await listImages(root);
  const newest = new Set([...newestVerified(images).values()].map((i) => i.dir));
  for (const image of images) {
    const users = await livePidsUsing(image.dir);
    if (newest.has(image.dir)) result.kept.push(image.dir);
    else if (users.length > 0) {
      progress("gc", `keep ${path.basename(image.dir)}: in use by pid ${users.join(", ")}`);
      result.kept.push(image.dir);
    } else await remove(image.dir, image.problems.length > 0 ? image.problems.join("; ") : "superseded");
  }
  if (!existsSync(root)) return result;
  const published = new Set(images.map((i) => path.basename(i.dir)));
  const current = await currentImageNames(options.recipesDir);
  for (const name of await readdir(root)) {
    const dir = path.join(root, name);
    const builtOf = /^\.built-(.+)$/.exec(name)?.[1];
    // A .built- tree is a resumable build of the current recipe; once published, or once its
    // recipe changed (or is gone), it is a leftover.
    if (builtOf && published.has(builtOf)) await remove(dir, "already published");
    else if (builtOf && !current.has(builtOf)) await remove(dir, "recipe changed");
    const builder = /^\.tmp-.*-(\d+)$/.exec(name)?.[1];
    if (builder && !pidAlive(Number(builder)) && (await stat(dir)).isDirectory())
      await remove(dir, "builder gone");
  }
  // Last: objects whose images were just removed now have no other link.
  const pruned = await pruneObjects(root, { dryRun: options.dryRun });
  if (pruned.removed > 0) {
    const mib = (pruned.bytes / 2 ** 20).toFixed(0);
    progress(
      "gc",
      `${options.dryRun ? "would remove" : "removed"} ${pruned.removed} shared files no image holds (${mib} MiB)`,
    );
  }
  result.prunedObjects = pruned.removed;
  return result;
}
