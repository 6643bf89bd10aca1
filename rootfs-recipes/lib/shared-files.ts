import type { Stats } from "node:fs";
import { link, lstat, mkdir, readdir, rename, unlink, utimes } from "node:fs/promises";
import path from "node:path";

// Theory of operation. Images share most of their files (the Debian base, libc, gcc, the JDK), so
// each regular file of a finished tree is stored once, in a content-addressed store under the
// images root, and every image holding the same file gets a hard link to it:
//
//   <root>/.objects/<sha256[0..2]>/<sha256>-<mode>-<uid>-<gid>-<mtime s>
//
// A hard link shares the inode, so the key carries every inode attribute a reader can see besides
// the link count: content, permission bits, owner and modification time (files unpacked from the
// same .deb have the same mtime in every image; files generated at install time do not, and stay
// apart, so no tool comparing a source's mtime with its compiled form ever sees a changed time).
// Linking replaces a file by rename, which touches its directory's times; they are put back.
//
// Why hard links and not a shared base layer: jobs already see images read-only through the
// sandbox, so a file shared between images adds no new way to change anything, and a link needs
// no overlay mount in the sandbox or any change to it, and shares more than a base layer would
// (every library common to two images, not only the debootstrap base). What a job can observe
// through a shared inode, and why that is acceptable, is in rootfs-recipes/README.md ("Shared
// files"). The store is only written while a tree is unpublished (.tmp- build or import); a
// published image's files are never modified in place, by the driver or, the README says, by hand.
//
// Races: a build links its file *as* the object when none exists (link(file, object)); otherwise
// it links the object next to its file and renames it over the file. gc removes objects whose link
// count is 1 (no image holds them); if that happens between a build's check and its link, the
// build's link fails with ENOENT and it stores its own copy instead. Nothing ever writes into an
// object, so a concurrent reader always sees complete content.

const OBJECTS = ".objects";

export function objectsDirOf(root: string): string {
  return path.join(root, OBJECTS);
}

/** A regular file of a tree with its digest, as hashTree reports it. */
export interface TreeFile {
  /** Path relative to the tree's root. */
  relPath: string;
  sha256: string;
  stat: Stats;
}

export interface ShareResult {
  /** Files now hard-linked to an object another tree (or this one) stored first. */
  linked: number;
  /** Files that became a new object. */
  stored: number;
  /** Bytes of the linked files: what this tree no longer takes on disk. */
  bytesSaved: number;
}

/** The object's name: everything a hard link makes two paths share. */
export function objectName(sha256: string, stat: Pick<Stats, "mode" | "uid" | "gid" | "mtimeMs">): string {
  const mode = (stat.mode & 0o7777).toString(8);
  return `${sha256}-${mode}-${stat.uid}-${stat.gid}-${Math.floor(stat.mtimeMs / 1000)}`;
}

function objectPath(objects: string, name: string): string {
  return path.join(objects, name.slice(0, 2), name);
}

type Outcome = "linked" | "stored" | "kept";

async function shareOne(objects: string, file: string, name: string, ino: number): Promise<Outcome> {
  const object = objectPath(objects, name);
  await mkdir(path.dirname(object), { recursive: true, mode: 0o700 });
  // Two attempts: the second after gc removed an object we were about to link.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await link(file, object);
      return "stored";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const existing = await lstat(object).catch(() => null);
    if (existing?.ino === ino) return "kept";
    if (!existing) continue;
    const temporary = path.join(path.dirname(file), `.cellblock-share-${process.pid}-${path.basename(file)}`);
    try {
      await link(object, temporary);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      // The filesystem's link limit (65,000 on ext4): this copy simply stays unshared.
      if (code === "EMLINK") return "kept";
      throw error;
    }
    await rename(temporary, file);
    return "linked";
  }
  return "kept";
}

/**
 * Replaces each file of `files` (inside `tree`) by a hard link to its object in the store under
 * `root`, storing the file as the object when it is the first. Empty files are left alone.
 * Directory times are restored, so the tree's digest and every timestamp a tool reads stay as they were.
 */
export async function shareTree(root: string, tree: string, files: TreeFile[]): Promise<ShareResult> {
  const objects = objectsDirOf(root);
  await mkdir(objects, { recursive: true, mode: 0o700 });
  const result: ShareResult = { linked: 0, stored: 0, bytesSaved: 0 };
  const directoryTimes = new Map<string, Stats>();
  for (const file of files) {
    if (file.stat.size === 0) continue;
    const full = path.join(tree, file.relPath);
    const dir = path.dirname(full);
    if (!directoryTimes.has(dir)) directoryTimes.set(dir, await lstat(dir));
    const outcome = await shareOne(objects, full, objectName(file.sha256, file.stat), file.stat.ino);
    if (outcome === "linked") {
      result.linked += 1;
      result.bytesSaved += file.stat.size;
    } else if (outcome === "stored") result.stored += 1;
  }
  for (const [dir, times] of directoryTimes) await utimes(dir, times.atime, times.mtime);
  return result;
}

export interface PruneResult {
  removed: number;
  bytes: number;
}

/** Removes objects no tree links to any more (link count 1: only the store holds them). */
export async function pruneObjects(root: string, options: { dryRun?: boolean } = {}): Promise<PruneResult> {
  const objects = objectsDirOf(root);
  const result: PruneResult = { removed: 0, bytes: 0 };
  const prefixes = await readdir(objects).catch(() => [] as string[]);
  for (const prefix of prefixes) {
    for (const name of await readdir(path.join(objects, prefix))) {
      const object = path.join(objects, prefix, name);
      const stat = await lstat(object);
      if (stat.nlink !== 1) continue;
      result.removed += 1;
      result.bytes += stat.size;
      if (!options.dryRun) await unlink(object);
    }
  }
  return result;
}
