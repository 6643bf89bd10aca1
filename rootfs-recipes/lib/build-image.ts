import { existsSync } from "node:fs";
import { copyFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { collectArchives, seedArchives } from "./apt-archives.ts";
import { mirrorForSuite, readAptSources } from "./apt-sources.ts";
import { assertNoMountsUnder, withChrootProc } from "./chroot-mounts.ts";
import { aptArchivesDir, ensureBase } from "./debootstrap-base.ts";
import { dropPaths, finalizeTree } from "./finalize-tree.ts";
import { builtDir, imageDir, rootfsOf } from "./image-paths.ts";
import type { LoadedRecipe } from "./load-recipe.ts";
import { type ImageManifest, readManifest, writeManifest } from "./manifest.ts";
import { DRIVER_VERSION, recipeHash } from "./recipe-hash.ts";
import { progress, runCommand } from "./run-command.ts";
import { shareTree, type TreeFile } from "./shared-files.ts";
import { hashTree } from "./tree-hash.ts";
import { type VerifySettings, verifyImage } from "./verify-image.ts";

// Theory of operation. An image moves through three directories, each step a rename within the
// images root so a reader never sees a half-made image:
//   .tmp-<name>-<hash12>-<pid>  debootstrap copy + apt-get + finalize; deleted on any failure
//   .built-<name>-<hash12>      complete tree + manifest without verification (a build whose
//                               verification failed resumes here instead of reinstalling)
//   <name>-<hash12>             verified; the only form workers and gc treat as an image
// The hash covers the recipe and the driver (recipe-hash.ts), so an unchanged recipe finds its
// final directory and the build is a no-op.

export interface BuildResult {
  dir: string;
  manifest: ImageManifest;
  /** True when the image already existed and nothing was done. */
  cached: boolean;
}

/** A directory's manifest, or null when it has none or it is unreadable: the build (re)makes it either way. */
const manifestIfReadable = (dir: string) => readManifest(dir).catch(() => null);

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive", DEBCONF_NONINTERACTIVE_SEEN: "true" };

async function installPackages(
  rootfs: string,
  loaded: LoadedRecipe,
  root: string,
  mirror: string,
  sourcesList: string,
) {
  const { recipe } = loaded;
  await writeFile(path.join(rootfs, "etc/apt/sources.list"), sourcesList);
  await rm(path.join(rootfs, "etc/apt/sources.list.d"), { recursive: true, force: true });
  await mkdir(path.join(rootfs, "etc/apt/sources.list.d"));
  await copyFile("/etc/resolv.conf", path.join(rootfs, "etc/resolv.conf"));
  // policy-rc.d 101 = "do not start services": maintainer scripts must not launch daemons in the chroot.
  await writeFile(path.join(rootfs, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  const apt = ["chroot", rootfs, "apt-get", "-q", "-y", "-o", "Acquire::Retries=3"];
  const cache = aptArchivesDir(root, recipe.base, mirror);
  await seedArchives(cache, rootfs);
  await withChrootProc(rootfs, async () => {
    progress(recipe.name, "apt-get update");
    await runCommand([...apt, "update"], { env: APT_ENV });
    progress(recipe.name, `apt-get install --no-install-recommends ${recipe.packages.join(" ")}`);
    await runCommand([...apt, "install", "--no-install-recommends", ...recipe.packages], { env: APT_ENV });
  });
  const downloaded = await collectArchives(rootfs, cache);
  if (downloaded > 0) progress(recipe.name, `${downloaded} new .debs kept in ${cache}`);
  await rm(path.join(rootfs, "usr/sbin/policy-rc.d"), { force: true });
}

async function listPackages(rootfs: string): Promise<ImageManifest["packages"]> {
  const { stdout } = await runCommand([
    "chroot",
    rootfs,
    "dpkg-query",
    "-W",
    "-f",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format string, not a JS template
    "${Package}\t${Version}\n",
  ]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.split("\t"))
    .map(([name = "", version = ""]) => ({ name, version }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Builds the unverified tree into .built-<name>-<hash12>; returns its manifest. */
async function buildTree(loaded: LoadedRecipe, root: string, hash: string): Promise<ImageManifest> {
  const { recipe } = loaded;
  const started = Date.now();
  const { mirror, sourcesList } = mirrorForSuite(await readAptSources(), recipe.base);
  const base = await ensureBase(root, recipe.base, mirror, recipe.name);
  const tmp = path.join(root, `.tmp-${path.basename(imageDir(root, recipe.name, hash))}-${process.pid}`);
  await assertNoMountsUnder(tmp);
  await rm(tmp, { recursive: true, force: true });
  try {
    const rootfs = rootfsOf(tmp);
    await mkdir(tmp);
    progress(recipe.name, "copy base");
    await runCommand(["cp", "-a", "--reflink=auto", base, rootfs]);
    await installPackages(rootfs, loaded, root, mirror, sourcesList);
    const packages = await listPackages(rootfs);
    const filesDir = path.join(loaded.dir, "files");
    if (existsSync(filesDir))
      await runCommand(["cp", "-a", "--no-preserve=ownership", `${filesDir}/.`, rootfs]);
    progress(recipe.name, "drop docs, caches, locales; strip setuid; chown root; read-only");
    await dropPaths(rootfs, recipe.drop);
    await finalizeTree(rootfs);
    progress(recipe.name, "digest; share files other images already hold");
    const files: TreeFile[] = [];
    const tree = await hashTree(rootfs, (relPath, sha256, stat) => files.push({ relPath, sha256, stat }));
    const shared = await shareTree(root, rootfs, files);
    const manifest: ImageManifest = {
      formatVersion: 1,
      name: recipe.name,
      recipeHash: hash,
      driverVersion: DRIVER_VERSION,
      recipe,
      suite: recipe.base,
      mirror,
      packages,
      tree,
      buildMs: Date.now() - started,
      createdAt: new Date().toISOString(),
      verification: null,
    };
    await writeManifest(tmp, manifest);
    const built = builtDir(root, recipe.name, hash);
    const other = await manifestIfReadable(built);
    if (other) {
      // A concurrent build of the same hash finished first; keep its tree, drop ours.
      await rm(tmp, { recursive: true, force: true });
      return other;
    }
    await rename(tmp, built);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    progress(
      recipe.name,
      `built ${mib(tree.sizeBytes)} MiB (${mib(tree.sizeBytes - shared.bytesSaved)} MiB not shared) in ${(manifest.buildMs / 1000).toFixed(0)} s`,
    );
    return manifest;
  } catch (error) {
    await assertNoMountsUnder(tmp);
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Builds, verifies (in the sandbox, as `verify` says) and publishes a recipe's image. */
export async function buildImage(
  loaded: LoadedRecipe,
  root: string,
  verify: VerifySettings,
): Promise<BuildResult> {
  const { recipe } = loaded;
  if (recipe.base === "host")
    throw new Error(`recipe "${recipe.name}": base "host" is the zero-build layout; nothing to build`);
  const hash = await recipeHash(recipe, loaded.dir);
  const final = imageDir(root, recipe.name, hash);
  const existing = await manifestIfReadable(final);
  if (existing?.verification?.ok) {
    progress(recipe.name, `up to date: ${final}`);
    return { dir: final, manifest: existing, cached: true };
  }
  await mkdir(root, { recursive: true, mode: 0o755 });
  const built = builtDir(root, recipe.name, hash);
  let manifest = await readManifest(built);
  if (manifest) progress(recipe.name, `resuming from ${built} (built, not yet verified)`);
  else manifest = await buildTree(loaded, root, hash);

  progress(recipe.name, `verify ${recipe.languages.map((l) => l.id).join(", ")} in the sandbox`);
  const checks = await verifyImage(rootfsOf(built), recipe.languages, verify);
  const ok = checks.every((c) => c.ok);
  manifest = { ...manifest, verification: { verifiedAt: new Date().toISOString(), ok, checks } };
  await writeManifest(built, manifest);
  if (!ok) {
    const failed = checks.filter((c) => !c.ok).map((c) => `${c.language}: ${c.error}`);
    throw new Error(
      `image ${recipe.name}: verification failed (kept in ${built}):\n  ${failed.join("\n  ")}`,
    );
  }
  const raced = await manifestIfReadable(final);
  if (raced?.verification?.ok) {
    // Another build or an import of the same hash published first; same recipe, same content.
    await rm(built, { recursive: true, force: true });
    return { dir: final, manifest: raced, cached: true };
  }
  // Left: nothing, or a directory without a verified manifest, which the verified build replaces.
  await rm(final, { recursive: true, force: true });
  await rename(built, final);
  progress(recipe.name, `ready: ${final}`);
  return { dir: final, manifest, cached: false };
}
