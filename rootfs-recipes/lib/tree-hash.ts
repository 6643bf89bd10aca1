import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";

// A digest of a whole image tree, recorded in the manifest at build time and recomputed on import:
// every entry's relative path, type, permission bits, owner, and content (files) or target
// (symlinks). Timestamps are left out so a tar round trip keeps the digest.

async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface TreeStats {
  sha256: string;
  /** Sum of regular file sizes. */
  sizeBytes: number;
  entries: number;
}

/**
 * Digests the tree at `root`; `onFile` (when given) sees every regular file with its digest, so a
 * caller that needs per-file digests (shared-files.ts) reads each file once.
 */
export async function hashTree(
  root: string,
  onFile?: (relPath: string, sha256: string, stat: Stats) => void,
): Promise<TreeStats> {
  const hash = createHash("sha256");
  let sizeBytes = 0;
  let entries = 0;
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const full = path.join(root, relPath);
      const stat = await lstat(full);
      const head = `${relPath}\0${(stat.mode & 0o7777).toString(8)}\0${stat.uid}:${stat.gid}\0`;
      entries += 1;
      if (stat.isDirectory()) {
        hash.update(`d\0${head}\n`);
        await walk(relPath);
      } else if (stat.isSymbolicLink()) {
        hash.update(`l\0${head}${await readlink(full)}\n`);
      } else if (stat.isFile()) {
        sizeBytes += stat.size;
        const digest = await fileSha256(full);
        onFile?.(relPath, digest, stat);
        hash.update(`f\0${head}${digest}\n`);
      } else {
        // Device nodes, fifos and sockets never belong in an image (finalizeTree removes them).
        throw new Error(`image tree ${root}: ${relPath} is a special file`);
      }
    }
  }
  await walk("");
  return { sha256: hash.digest("hex"), sizeBytes, entries };
}
