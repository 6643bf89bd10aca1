// Old images stay until no worker uses them; gc removes the rest and never the newest verified one.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectGarbage, pidAlive } from "../../rootfs-recipes/lib/gc.ts";
import { imageDirName } from "../../rootfs-recipes/lib/image-paths.ts";
import { markInUse, releaseInUse } from "../../rootfs-recipes/lib/in-use.ts";
import { loadRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";
import { recipeHash } from "../../rootfs-recipes/lib/recipe-hash.ts";
import { makeFakeImage } from "./_fake-image.ts";

// A pid that cannot be alive: above the kernel's pid_max limit (4194304).
const DEAD_PID = 4_194_305;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "cellblock-gc-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const older = (seed: string) => ({ hashSeed: seed, verifiedAt: "2025-01-01T00:00:00.000Z" });
const newer = (seed: string) => ({ hashSeed: seed, verifiedAt: "2025-06-01T00:00:00.000Z" });

describe("image gc", () => {
  it("the newest verified image of each recipe is kept and a superseded one is removed", async () => {
    const old = await makeFakeImage(root, "lua", older("1"));
    const current = await makeFakeImage(root, "lua", newer("2"));
    const other = await makeFakeImage(root, "go", older("3"));
    const result = await collectGarbage(root);
    expect(result.removed).toEqual([old.dir]);
    expect(existsSync(old.dir)).toBe(false);
    expect(existsSync(current.dir) && existsSync(other.dir)).toBe(true);
  });

  it("a superseded image a live worker marked in use is kept until the mark is released", async () => {
    const old = await makeFakeImage(root, "lua", older("1"));
    await makeFakeImage(root, "lua", newer("2"));
    await markInUse(old.dir);
    expect((await collectGarbage(root)).removed).toEqual([]);
    await releaseInUse(old.dir);
    expect((await collectGarbage(root)).removed).toEqual([old.dir]);
  });

  it("an in-use mark left by a dead worker does not protect an image", async () => {
    expect(pidAlive(DEAD_PID)).toBe(false);
    const old = await makeFakeImage(root, "lua", older("1"));
    await makeFakeImage(root, "lua", newer("2"));
    await markInUse(old.dir, DEAD_PID);
    expect((await collectGarbage(root)).removed).toEqual([old.dir]);
  });

  it("an unverified image is removed even when it is the only one of its recipe", async () => {
    const unverified = await makeFakeImage(root, "lua", { verified: false });
    expect((await collectGarbage(root)).removed).toEqual([unverified.dir]);
  });

  it("a dry run reports what it would remove and removes nothing", async () => {
    const old = await makeFakeImage(root, "lua", older("1"));
    await makeFakeImage(root, "lua", newer("2"));
    expect((await collectGarbage(root, { dryRun: true })).removed).toEqual([old.dir]);
    expect(existsSync(old.dir)).toBe(true);
  });

  it("temporary build trees of dead builders are removed, those of live builders are kept", async () => {
    const dead = path.join(root, `.tmp-lua-aaaaaaaaaaaa-${DEAD_PID}`);
    const live = path.join(root, `.tmp-lua-bbbbbbbbbbbb-${process.pid}`);
    await mkdir(dead);
    await mkdir(live);
    expect((await collectGarbage(root)).removed).toEqual([dead]);
    expect(existsSync(live)).toBe(true);
  });

  it("a built-but-unverified tree of a recipe that has since changed is removed; the current one is kept", async () => {
    const { recipe, dir } = await loadRecipe("python");
    const current = path.join(root, `.built-${imageDirName("python", await recipeHash(recipe, dir))}`);
    const stale = path.join(root, ".built-python-000000000000");
    await mkdir(current);
    await mkdir(stale);
    expect((await collectGarbage(root)).removed).toEqual([stale]);
    expect(existsSync(current)).toBe(true);
  });
});
