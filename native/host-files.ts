// Host-side file work of the sandbox host that Node's fs cannot do safely: removing a tree
// whatever a job left in it (descriptor-relative, native/src/host-files.c), and the flocks by which
// the workers of one host claim their uid ranges (claim-uid-range.ts).
import { constants } from "node:os";
import { loadAddon } from "./addon.ts";

/**
 * Removes the tree at `dir` (missing is fine), however deep, whatever its modes: fs.rm walks by
 * path and fails with ENAMETOOLONG below ~2,000 levels, leaving the rest on tmpfs for good.
 */
export async function removeTree(dir: string): Promise<void> {
  await loadAddon().removeTree(dir);
}

/** The bytes the tree at `dir` occupies on its filesystem (st_blocks of every entry), however deep. */
export function treeBytes(dir: string): Promise<number> {
  return loadAddon().treeBytes(dir);
}

/** An exclusive flock on `file` (created if missing) without waiting: its release, or null when held elsewhere. */
export function tryLockFile(file: string): (() => void) | null {
  const fd = loadAddon().tryLock(file);
  if (fd === -constants.errno.EWOULDBLOCK) return null;
  if (fd < 0) throw new Error(`lock ${file}: errno ${-fd}`);
  let held = true;
  return () => {
    if (held) loadAddon().unlock(fd);
    held = false;
  };
}
