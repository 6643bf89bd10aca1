// cgroup v2: make the memory, pids and cpu controllers available to our run groups, and io (disk
// I/O limits, io.max) where the host offers it.
//
// Controllers reach a group only if every ancestor lists them in cgroup.subtree_control, and v2's
// "no internal processes" rule refuses that write (EBUSY) in a non-root group that holds processes.
// That is the usual case in a container with its own cgroup namespace, or a systemd service with
// Delegate=yes: the worker itself lives in the group we are given. Like nsjail, we then move our
// own process (and only ours) into a leaf beside our parent group and retry; if other processes
// live there too, we stop with a message naming the fix.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const NEEDED = ["memory", "pids", "cpu"];
/** Enabled where the group offers it; a run with disk I/O limits then fails naming io.max if not. */
const OPTIONAL = ["io"];

export interface CgroupFs {
  read(path: string): string;
  write(path: string, value: string): void;
  mkdir(path: string): void;
}

const realFs: CgroupFs = {
  read: (path) => readFileSync(path, "utf8"),
  write: (path, value) => writeFileSync(path, value),
  mkdir: (path) => mkdirSync(path, { recursive: true }),
};

function enable(fs: CgroupFs, dir: string): void {
  const enabled = fs.read(join(dir, "cgroup.subtree_control")).split(/\s+/);
  const offered = fs.read(join(dir, "cgroup.controllers")).split(/\s+/);
  const wanted = [...NEEDED, ...OPTIONAL.filter((c) => offered.includes(c))];
  const missing = wanted.filter((c) => !enabled.includes(c));
  if (missing.length > 0)
    fs.write(join(dir, "cgroup.subtree_control"), missing.map((c) => `+${c}`).join(" "));
}

/**
 * Enables our controllers from root down to parent (parent = root/<name>), creating parent.
 * `pid` is our own process, the only one this may move.
 */
export function delegateV2Controllers(
  root: string,
  parent: string,
  pid: number,
  fs: CgroupFs = realFs,
): void {
  fs.mkdir(parent);
  try {
    enable(fs, root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EBUSY") throw e;
    const ours = fs.read(join(root, "cgroup.procs")).split("\n").map(Number).includes(pid);
    if (!ours) throw busy(root);
    const leaf = `${parent}-supervisor`;
    fs.mkdir(leaf);
    fs.write(join(leaf, "cgroup.procs"), String(pid));
    try {
      enable(fs, root);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === "EBUSY") throw busy(root);
      throw again;
    }
  }
  enable(fs, parent);
}

function busy(root: string): Error {
  return new Error(
    `enable cgroup controllers in ${root}: EBUSY (other processes live in this cgroup; give the worker a ` +
      "delegated subtree of its own, e.g. systemd Delegate=yes, and point CELLBLOCK_CGROUP_ROOT at it)",
  );
}
