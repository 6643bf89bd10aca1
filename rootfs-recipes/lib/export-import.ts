import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { assertNoMountsUnder } from "./chroot-mounts.ts";
import { imageDirName, manifestOf, rootfsOf } from "./image-paths.ts";
import { listImages, newestVerified } from "./image-store.ts";
import {
  type ImageManifest,
  ImageManifestSchema,
  manifestProblems,
  parseManifest,
  readManifest,
} from "./manifest.ts";
import { progress, runCommand } from "./run-command.ts";
import { shareTree, type TreeFile } from "./shared-files.ts";
import { inspectImageTar } from "./tar-inspect.ts";
import { hashTree } from "./tree-hash.ts";

// Build once, copy to many worker hosts: `export` writes <name>-<hash12>.tar (manifest.json +
// rootfs/, numeric owners, sorted) and <name>-<hash12>.manifest.json beside it (the manifest plus
// the tarball's sha256). `import` trusts nothing in the file: it checks the sidecar digest when
// present, every tar header (tar-inspect.ts), then extracts into a temporary directory, recomputes
// the tree digest and compares it with the manifest before renaming the image into place.

export const ExportSidecarSchema = z
  .object({ tarSha256: z.string().regex(/^[0-9a-f]{64}$/), manifest: ImageManifestSchema })
  .strict();

async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface ExportResult {
  tarFile: string;
  sidecarFile: string;
}

/** Exports the newest verified image of `name` (or the image directory `dir` when given). */
export async function exportImage(
  root: string,
  name: string,
  outDir: string,
  dir?: string,
): Promise<ExportResult> {
  const imageDir = dir ?? newestVerified(await listImages(root)).get(name)?.dir;
  if (!imageDir) throw new Error(`export ${name}: no verified image under ${root} (build it first)`);
  const manifest = await readManifest(imageDir);
  if (!manifest) throw new Error(`export ${name}: ${manifestOf(imageDir)} missing`);
  const base = imageDirName(manifest.name, manifest.recipeHash);
  await mkdir(outDir, { recursive: true });
  const tarFile = path.join(path.resolve(outDir), `${base}.tar`);
  progress(name, `export ${imageDir} → ${tarFile}`);
  // .in-use/ marks belong to this host's workers, not to the image. --hard-dereference: files
  // shared with other images (shared-files.ts) are stored whole, so the tarball stands alone.
  await runCommand([
    "tar",
    "-C",
    imageDir,
    "--numeric-owner",
    "--hard-dereference",
    "--sort=name",
    "-cf",
    tarFile,
    "manifest.json",
    "rootfs",
  ]);
  const sidecar = { tarSha256: await fileSha256(tarFile), manifest };
  const sidecarFile = path.join(path.resolve(outDir), `${base}.manifest.json`);
  await writeFile(sidecarFile, `${JSON.stringify(sidecar, null, 2)}\n`);
  return { tarFile, sidecarFile };
}

/** Imports an exported tarball into the images root; returns the image directory. */
export async function importImage(root: string, tarFile: string): Promise<string> {
  const rejected = (why: string) => new Error(`import ${tarFile}: rejected: ${why}`);
  if (!existsSync(tarFile)) throw rejected("file not found");
  const sidecarFile = tarFile.replace(/\.tar$/, ".manifest.json");
  let sidecar: z.infer<typeof ExportSidecarSchema> | null = null;
  if (sidecarFile !== tarFile && existsSync(sidecarFile)) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(sidecarFile, "utf8"));
    } catch {
      throw rejected(`${path.basename(sidecarFile)} is not valid JSON`);
    }
    const parsed = ExportSidecarSchema.safeParse(raw);
    if (!parsed.success) throw rejected(`${path.basename(sidecarFile)} is not an export manifest`);
    sidecar = parsed.data;
    if ((await fileSha256(tarFile)) !== sidecar.tarSha256) {
      throw rejected(`sha256 differs from ${path.basename(sidecarFile)} (damaged or altered in transit)`);
    }
  }
  try {
    await inspectImageTar(tarFile);
  } catch (error) {
    throw rejected((error as Error).message);
  }
  await mkdir(root, { recursive: true });
  const tmp = path.join(root, `.tmp-import-${Date.now()}-${process.pid}`);
  try {
    await mkdir(tmp);
    progress("import", `extract ${tarFile}`);
    await runCommand(["tar", "-C", tmp, "--numeric-owner", "-xpf", tarFile]);
    let manifest: ImageManifest;
    try {
      manifest = parseManifest(await readFile(manifestOf(tmp), "utf8"), "manifest.json");
    } catch (error) {
      throw rejected((error as Error).message);
    }
    const name = imageDirName(manifest.name, manifest.recipeHash);
    const problems = manifestProblems(manifest, path.join(root, name));
    if (problems.length > 0) throw rejected(`manifest: ${problems.join("; ")}`);
    if (sidecar && sidecar.manifest.tree.sha256 !== manifest.tree.sha256)
      throw rejected("sidecar and inner manifest disagree");
    if (!existsSync(rootfsOf(tmp))) throw rejected("no rootfs/ in the tarball");
    const files: TreeFile[] = [];
    const tree = await hashTree(rootfsOf(tmp), (relPath, sha256, stat) =>
      files.push({ relPath, sha256, stat }),
    );
    if (tree.sha256 !== manifest.tree.sha256) {
      throw rejected(
        `tree digest ${tree.sha256.slice(0, 12)} ≠ manifest ${manifest.tree.sha256.slice(0, 12)} (content altered)`,
      );
    }
    const final = path.join(root, name);
    if (existsSync(final) && (await readManifest(final))?.verification?.ok) {
      progress("import", `${name} already present`);
      return final;
    }
    // Only a tree whose digest matched is shared: nothing unverified ever becomes an object.
    await shareTree(root, rootfsOf(tmp), files);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    progress("import", `ready: ${final} (${tree.entries} entries)`);
    return final;
  } finally {
    if (existsSync(tmp)) {
      await assertNoMountsUnder(tmp);
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
