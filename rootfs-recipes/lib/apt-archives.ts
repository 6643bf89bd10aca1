import { link, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";

// The downloaded .debs are shared by every build of a (suite, mirror) through <root>/.apt-archives/.
// Each build gets its own archives directory inside its tree, seeded with hard links to the cached
// .debs, and hands the ones it downloaded back the same way when apt is done. Builds running in
// parallel therefore never share apt's lock file or its partial/ directory (a bind mount of one
// directory into two chroots would make the second apt-get fail on the lock), and the cache never
// holds a half-downloaded file: apt moves a .deb out of partial/ only once its hash checked out.
// Both directories are on the images root's filesystem, so linking copies nothing.

async function debsIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith(".deb"));
}

/** Links every .deb of `from` into `to` that `to` lacks (same file name = same package version). */
async function linkDebs(from: string, to: string): Promise<number> {
  await mkdir(to, { recursive: true });
  const present = new Set(await debsIn(to));
  let linked = 0;
  for (const name of await debsIn(from)) {
    if (present.has(name)) continue;
    try {
      await link(path.join(from, name), path.join(to, name));
      linked += 1;
    } catch (error) {
      // Another build handed back the same .deb first.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  return linked;
}

/** The tree's own apt archives directory. */
export function treeArchivesDir(rootfs: string): string {
  return path.join(rootfs, "var/cache/apt/archives");
}

/** Before apt-get: the tree's archives hold every cached .deb. */
export async function seedArchives(cache: string, rootfs: string): Promise<number> {
  await mkdir(cache, { recursive: true });
  await mkdir(path.join(treeArchivesDir(rootfs), "partial"), { recursive: true });
  return linkDebs(cache, treeArchivesDir(rootfs));
}

/** After apt-get: the cache gets the .debs this build downloaded, the tree keeps none; returns how many. */
export async function collectArchives(rootfs: string, cache: string): Promise<number> {
  const archives = treeArchivesDir(rootfs);
  const downloaded = await linkDebs(archives, cache);
  for (const name of await debsIn(archives)) await rm(path.join(archives, name), { force: true });
  return downloaded;
}
