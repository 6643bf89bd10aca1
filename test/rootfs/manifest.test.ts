// A worker uses an image only when its manifest parses, matches its directory, and verified.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listImages, newestVerified } from "../../rootfs-recipes/lib/image-store.ts";
import { manifestProblems, parseManifest, readManifest } from "../../rootfs-recipes/lib/manifest.ts";
import { makeFakeImage } from "./_fake-image.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "cellblock-manifest-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("image manifests", () => {
  it("a verified image's manifest round-trips and has no problems", async () => {
    const { dir, manifest } = await makeFakeImage(root, "lua");
    expect(await readManifest(dir)).toEqual(manifest);
    expect(manifestProblems(manifest, dir)).toEqual([]);
  });

  it("an image that was never verified is not usable", async () => {
    const { dir, manifest } = await makeFakeImage(root, "lua", { verified: false });
    expect(manifestProblems(manifest, dir)).toEqual(["not verified"]);
  });

  it("an image with a failed language check is not usable", async () => {
    const { dir, manifest } = await makeFakeImage(root, "lua");
    const verification = manifest.verification && { ...manifest.verification, ok: false };
    expect(manifestProblems({ ...manifest, verification }, dir)).toEqual(["verification failed"]);
  });

  it("a manifest copied into another image's directory is caught by its name and hash", async () => {
    const { manifest } = await makeFakeImage(root, "lua");
    expect(manifestProblems(manifest, path.join(root, "lua-bbbbbbbbbbbb"))).toEqual([
      "directory is lua-bbbbbbbbbbbb, manifest says lua-aaaaaaaaaaaa",
    ]);
  });

  it("a manifest with a malformed hash or missing field is rejected naming the field", async () => {
    const { dir } = await makeFakeImage(root, "lua");
    const raw = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    expect(() => parseManifest(JSON.stringify({ ...raw, recipeHash: "xyz" }), "m.json")).toThrow(
      /recipeHash/,
    );
    const { tree: _tree, ...withoutTree } = raw;
    expect(() => parseManifest(JSON.stringify(withoutTree), "m.json")).toThrow(/m.json: tree: Required/);
  });

  it("the newest verified image of each recipe is picked; unverified and broken ones are skipped", async () => {
    await makeFakeImage(root, "lua", { hashSeed: "1", verifiedAt: "2025-01-01T00:00:00.000Z" });
    const newer = await makeFakeImage(root, "lua", { hashSeed: "2", verifiedAt: "2025-02-01T00:00:00.000Z" });
    await makeFakeImage(root, "lua", { hashSeed: "3", verified: false });
    const broken = await makeFakeImage(root, "go", { hashSeed: "4" });
    await writeFile(path.join(broken.dir, "manifest.json"), "{");
    const newest = newestVerified(await listImages(root));
    expect([...newest.keys()]).toEqual(["lua"]);
    expect(newest.get("lua")?.dir).toBe(newer.dir);
  });
});
