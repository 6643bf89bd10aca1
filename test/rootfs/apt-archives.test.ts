// Each build has its own apt archives directory: seeded with links to the cached .debs, and the
// .debs it downloaded are handed back to the cache (never half-downloaded ones from partial/).
import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectArchives, seedArchives, treeArchivesDir } from "../../rootfs-recipes/lib/apt-archives.ts";

let work: string;
let cache: string;
let rootfs: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "cellblock-archives-"));
  cache = path.join(work, "cache");
  rootfs = path.join(work, "rootfs");
  await mkdir(cache);
  await writeFile(path.join(cache, "libc6_2.36_amd64.deb"), "cached deb");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("a build's own apt archives", () => {
  it("start with links to every cached .deb and a partial/ directory for apt", async () => {
    expect(await seedArchives(cache, rootfs)).toBe(1);
    const seeded = path.join(treeArchivesDir(rootfs), "libc6_2.36_amd64.deb");
    expect((await lstat(seeded)).ino).toBe((await lstat(path.join(cache, "libc6_2.36_amd64.deb"))).ino);
    expect(existsSync(path.join(treeArchivesDir(rootfs), "partial"))).toBe(true);
  });

  it("hand the downloaded .debs to the cache and keep none, nor anything from partial/", async () => {
    await seedArchives(cache, rootfs);
    const archives = treeArchivesDir(rootfs);
    await writeFile(path.join(archives, "gcc-12_12.2.0_amd64.deb"), "new deb");
    await writeFile(path.join(archives, "partial", "half_1.0_amd64.deb"), "half");
    expect(await collectArchives(rootfs, cache)).toBe(1);
    expect((await readdir(cache)).sort()).toEqual(["gcc-12_12.2.0_amd64.deb", "libc6_2.36_amd64.deb"]);
    expect(await readdir(archives)).toEqual(["partial"]);
  });

  it("two builds handing back the same .deb leave one copy", async () => {
    const other = path.join(work, "other");
    for (const tree of [rootfs, other]) {
      await seedArchives(cache, tree);
      await writeFile(path.join(treeArchivesDir(tree), "zlib1g_1.2_amd64.deb"), "same deb");
    }
    expect(await collectArchives(rootfs, cache)).toBe(1);
    expect(await collectArchives(other, cache)).toBe(0);
    expect((await readdir(cache)).filter((n) => n.startsWith("zlib1g"))).toHaveLength(1);
  });
});
