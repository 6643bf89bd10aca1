import { existsSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { assertNoMountsUnder } from "./chroot-mounts.ts";
import { inUseDirOf } from "./image-paths.ts";
import { listImages, newestVerified } from "./image-store.ts";
import { progress } from "./run-command.ts";

// Old images stay until no worker uses them. A worker marks use with an empty file
// <image>/.in-use/<pid> while it may start runs on that image and removes it when it switches
// away or exits; a file whose pid is dead (a crashed worker) no longer protects the image.
// Kept: the newest verified image of each recipe. Removed: every other image not in use,
// unverified .built- trees of superseded hashes, and .tmp- trees whose builder has died.

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
}

export async function collectGarbage(root: string, options: { dryRun?: boolean } = {}): Promise<GcResult> {
  const result: GcResult = { removed: [], kept: [] };
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
  for (const name of await readdir(root)) {
    const dir = path.join(root, name);
    const builtOf = /^\.built-(.+)$/.exec(name)?.[1];
    // A .built- tree whose final image exists is a leftover; otherwise it is a resumable build.
    if (builtOf && published.has(builtOf)) await remove(dir, "already published");
    const builder = /^\.tmp-.*-(\d+)$/.exec(name)?.[1];
    if (builder && !pidAlive(Number(builder)) && (await stat(dir)).isDirectory())
      await remove(dir, "builder gone");
  }
  return result;
}
