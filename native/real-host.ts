// The real host, read for the set-up checks (host-prerequisites.ts and rootless.ts are pure over
// these views) and a rootless worker's own directory for new roots.
import { accessSync, constants as fsConstants, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { release, tmpdir, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { HostView } from "./host-prerequisites.ts";
import type { RootlessView } from "./rootless.ts";

export function realHostView(): HostView {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  };
  return { read, uid: process.getuid?.() ?? 0, kernelRelease: release() };
}

export function realRootlessView(): RootlessView {
  const can = (mode: number) => (path: string) => {
    try {
      accessSync(path, mode);
      return true;
    } catch {
      return false;
    }
  };
  let userName: string | undefined;
  try {
    userName = userInfo().username;
  } catch {
    userName = undefined; // no passwd entry: /etc/subuid may still name the uid
  }
  return {
    ...realHostView(),
    executable: can(fsConstants.X_OK),
    writable: can(fsConstants.W_OK),
    gid: process.getgid?.() ?? 0,
    userName,
  };
}

/**
 * A rootless worker's default mount point for new roots: under the temp dir, in a directory of its
 * own (another user may have made the name first: then it is refused, not used). Traversable
 * (0711): the container's setup child, a mapped id, mounts there.
 */
export function rootlessNewRoot(uid: number): string {
  const dir = join(tmpdir(), `cellblock-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0)
    throw new Error(
      `rootless sandbox: ${dir} is not a directory of uid ${uid}'s own; remove it or set newRoot`,
    );
  return join(dir, "newroot");
}

/**
 * Throws naming the first directory on the way to the new-root mount point that others cannot
 * search: each container's setup child runs as a slot's id (or a subordinate one) and mounts there,
 * so a 0700 parent fails every run with a bare EACCES from mount(2).
 */
export function requireSearchable(newRoot: string): void {
  for (let dir = resolve(newRoot); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o001) === 0)
      throw new Error(
        `new-root mount point ${newRoot}: ${dir} is mode ${mode.toString(8).padStart(4, "0")}, not searchable by ` +
          `the containers' setup ids; make it searchable (chmod o+x ${dir}) or set newRoot elsewhere`,
      );
    if (dir === "/") return;
  }
}
