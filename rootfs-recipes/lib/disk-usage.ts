import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

// What a set of image trees takes on disk, counting each inode once: files shared between images
// (shared-files.ts) are hard links, so the images' own sizes add up to more than the disk holds.

export interface DiskUsage {
  /** Sum of the trees' regular file sizes, each tree counted alone (what they would take unshared). */
  apparentBytes: number;
  /** Blocks allocated to the distinct inodes of all trees (files, directories, symlinks). */
  onDiskBytes: number;
}

export async function diskUsage(trees: string[]): Promise<DiskUsage> {
  const seen = new Set<string>();
  const usage: DiskUsage = { apparentBytes: 0, onDiskBytes: 0 };
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const stat = await lstat(full);
      if (stat.isFile()) usage.apparentBytes += stat.size;
      const inode = `${stat.dev}:${stat.ino}`;
      if (!seen.has(inode)) {
        seen.add(inode);
        usage.onDiskBytes += stat.blocks * 512;
      }
      if (entry.isDirectory()) await walk(full);
    }
  };
  for (const tree of trees) await walk(tree);
  return usage;
}
