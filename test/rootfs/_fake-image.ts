import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Recipe } from "../../contract/recipe.ts";
import { imageDirName, rootfsOf } from "../../rootfs-recipes/lib/image-paths.ts";
import { type ImageManifest, writeManifest } from "../../rootfs-recipes/lib/manifest.ts";
import { DRIVER_VERSION } from "../../rootfs-recipes/lib/recipe-hash.ts";
import { hashTree } from "../../rootfs-recipes/lib/tree-hash.ts";

// A tiny stand-in for a built image (a few files, a real manifest with a real tree digest), so
// export, import, gc and resolution run in milliseconds without debootstrap.

export function fakeRecipe(name: string, languageIds: string[]): Recipe {
  return {
    name,
    base: "bookworm",
    packages: [],
    drop: [],
    languages: languageIds.map((id) => ({
      id,
      name: id,
      versionCommand: [`/usr/bin/${id}`, "--version"],
      sourceFile: "main.txt",
      compile: null,
      run: [`/usr/bin/${id}`, "main.txt"],
      env: {},
      limits: {},
      compileLimits: {},
      test: { source: "", stdin: "", expectedOutput: "" },
    })),
  };
}

export interface FakeImageOptions {
  languages?: string[];
  /** Distinguishes images of the same recipe; becomes the start of the recipe hash. */
  hashSeed?: string;
  verifiedAt?: string;
  verified?: boolean;
}

export async function makeFakeImage(root: string, name: string, options: FakeImageOptions = {}) {
  const languages = options.languages ?? [name];
  const recipeHash = (options.hashSeed ?? "a").repeat(64).slice(0, 64);
  const dir = path.join(root, imageDirName(name, recipeHash));
  const rootfs = rootfsOf(dir);
  await mkdir(path.join(rootfs, "usr/bin"), { recursive: true });
  await mkdir(path.join(rootfs, "etc"), { recursive: true });
  await writeFile(path.join(rootfs, "usr/bin/hello"), "#!/bin/sh\necho hello\n", { mode: 0o755 });
  await writeFile(path.join(rootfs, "etc/passwd"), "runner:x:1000:1000::/tmp:/bin/sh\n");
  const verifiedAt = options.verifiedAt ?? new Date().toISOString();
  const manifest: ImageManifest = {
    formatVersion: 1,
    name,
    recipeHash,
    driverVersion: DRIVER_VERSION,
    recipe: fakeRecipe(name, languages),
    suite: "bookworm",
    mirror: "http://deb.example/debian",
    packages: [{ name: "hello", version: "1.0" }],
    tree: await hashTree(rootfs),
    buildMs: 1000,
    createdAt: verifiedAt,
    verification:
      options.verified === false
        ? null
        : {
            verifiedAt,
            ok: true,
            checks: languages.map((id) => ({
              language: id,
              version: `${id} 1.0`,
              compileMs: null,
              runMs: 5,
              ok: true,
              error: null,
            })),
          },
  };
  await writeManifest(dir, manifest);
  return { dir, manifest };
}
