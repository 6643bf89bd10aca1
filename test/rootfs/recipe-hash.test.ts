// The recipe hash names the image directory: equal recipes must hash equally (rebuild is a no-op)
// and any change that alters the tree must change it.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";
import { canonicalJson, recipeHash } from "../../rootfs-recipes/lib/recipe-hash.ts";
import { fakeRecipe } from "./_fake-image.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cellblock-hash-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("recipe hashing", () => {
  it("canonical JSON sorts keys at every level and keeps array order", () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[2,{"c":2,"d":1}]}');
  });

  it("the same recipe hashes the same, whatever its key order and whitespace", async () => {
    const recipe = fakeRecipe("tiny", ["lua"]);
    const reordered = parseRecipe(
      JSON.stringify(Object.fromEntries(Object.entries(recipe).reverse()), null, 4),
      "x",
    );
    expect(await recipeHash(reordered, dir)).toBe(await recipeHash(recipe, dir));
    expect(await recipeHash(recipe, dir)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("adding a package, or changing a language's argv, changes the hash", async () => {
    const recipe = fakeRecipe("tiny", ["lua"]);
    const base = await recipeHash(recipe, dir);
    expect(await recipeHash({ ...recipe, packages: ["lua5.4"] }, dir)).not.toBe(base);
    const [language] = recipe.languages;
    if (!language) throw new Error("fake recipe has a language");
    const changed = { ...recipe, languages: [{ ...language, run: ["/usr/bin/lua5.3", "main.lua"] }] };
    expect(await recipeHash(changed, dir)).not.toBe(base);
  });

  it("a file added under files/, its content and its mode all change the hash", async () => {
    const recipe = fakeRecipe("tiny", ["lua"]);
    const before = await recipeHash(recipe, dir);
    await mkdir(path.join(dir, "files/etc"), { recursive: true });
    await writeFile(path.join(dir, "files/etc/motd"), "hi\n");
    const withFile = await recipeHash(recipe, dir);
    expect(withFile).not.toBe(before);
    await writeFile(path.join(dir, "files/etc/motd"), "ho\n");
    const edited = await recipeHash(recipe, dir);
    expect(edited).not.toBe(withFile);
    await chmod(path.join(dir, "files/etc/motd"), 0o755);
    expect(await recipeHash(recipe, dir)).not.toBe(edited);
  });
});
