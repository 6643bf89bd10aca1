import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

// What a set of image trees takes on disk, in allocated blocks: each tree counted alone (what the
// images would take without sharing), and every inode once across all trees (what they take with
// shared files stored once, shared-files.ts, since those are hard links).

export interface DiskUsage {
  /** Blocks of each tree's distinct inodes, summed over the trees: the images without sharing. */
  separateBytes: number;
  /** Blocks of the distinct inodes of all trees together: what the disk holds. */
  onDiskBytes: number;
}

export async function diskUsage(trees: string[]): Promise<DiskUsage> {
  const everywhere = new Set<string>();
  const usage: DiskUsage = { separateBytes: 0, onDiskBytes: 0 };
  for (const tree of trees) {
    const inTree = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const stat = await lstat(full);
        const inode = `${stat.dev}:${stat.ino}`;
        const bytes = stat.blocks * 512;
        if (!inTree.has(inode)) {
          inTree.add(inode);
          usage.separateBytes += bytes;
        }
        if (!everywhere.has(inode)) {
          everywhere.add(inode);
          usage.onDiskBytes += bytes;
        }
        if (entry.isDirectory()) await walk(full);
      }
    };
    await walk(tree);
  }
  return usage;
}
