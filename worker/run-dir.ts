import {
  chmodSync,
  chownSync,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { newWorkDir } from "./work-dir.ts";

// A run's own writable copy of the job's work dir, for runs that read input files or write files
// the job asks back (USACO's input.txt/output.txt, a notebook's plot). The job's dir stays
// read-only for every other run, so no run leaves anything for the next; this copy is removed
// after its run. The copy is made by the worker as root from a dir the compile step wrote, so it
// never follows a link: symlinks are copied as symlinks (resolved later inside the sandbox, where
// they can reach nothing of the host), FIFOs, sockets and devices are skipped, and a tree larger
// than RUN_DIR_MAX_ENTRIES is cut there, so a hostile compile cannot make every test slow.

export const RUN_DIR_MAX_ENTRIES = 10_000;

export function createRunDir(
  workRoot: string,
  slotBase: number,
  jobDir: string,
  inputFiles: { path: string; data: Buffer }[],
  hostId: number,
): Promise<string> {
  return newWorkDir(workRoot, slotBase, [], hostId, (dir) => {
    const budget = { entries: RUN_DIR_MAX_ENTRIES };
    copyTree(jobDir, dir, hostId, budget);
    for (const file of inputFiles) placeReadOnly(dir, file.path, file.data, hostId);
  });
}

function copyTree(from: string, to: string, hostId: number, budget: { entries: number }): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (--budget.entries < 0) return;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(target, { mode: 0o700 });
      chownSync(target, hostId, hostId);
      copyTree(source, target, hostId, budget);
      chmodSync(target, lstatSync(source).mode & 0o777);
    } else if (entry.isFile()) {
      copyFileSync(source, target);
      // Permission bits only: setuid/setgid never survive the copy.
      chmodSync(target, lstatSync(source).mode & 0o777);
      chownSync(target, hostId, hostId);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
      lchownSync(target, hostId, hostId);
    }
  }
}

/**
 * Writes a test's input file, read-only (0444, owned by the worker, which the sandbox does not map),
 * replacing whatever the copy has on its path: a symlinked or non-directory parent is removed
 * without being followed, so the write can never land outside the run's dir.
 */
function placeReadOnly(dir: string, relative: string, data: Buffer, hostId: number): void {
  const target = path.resolve(dir, relative);
  if (!target.startsWith(`${dir}/`)) throw new Error(`write input file ${relative}: escapes the run dir`);
  let parent = dir;
  for (const segment of path.relative(dir, path.dirname(target)).split(path.sep).filter(Boolean)) {
    parent = path.join(parent, segment);
    const existing = lstatOrNull(parent);
    if (existing?.isDirectory()) continue;
    if (existing) rmSync(parent, { force: true });
    mkdirSync(parent, { mode: 0o755 });
    chownSync(parent, hostId, hostId);
  }
  rmSync(target, { recursive: true, force: true });
  writeFileSync(target, data, { mode: 0o444, flag: "wx" });
}

function lstatOrNull(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/**
 * Whether `dir` copies whole: at most RUN_DIR_MAX_ENTRIES entries, each a directory, a regular
 * file or a symlink (copyTree skips the rest: a FIFO a compile step made). A job's tests fan out
 * to borrowed slots only then: a test on a borrowed slot runs on a copy, and a copy that differs
 * could change its verdict.
 */
export function copiesWhole(dir: string): boolean {
  const budget = { entries: RUN_DIR_MAX_ENTRIES };
  const count = (from: string): void => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (--budget.entries < 0) return;
      if (entry.isDirectory()) count(path.join(from, entry.name));
      else if (!entry.isFile() && !entry.isSymbolicLink()) budget.entries = -1;
    }
  };
  count(dir);
  return budget.entries >= 0;
}

/**
 * A copy of a job's dir owned by another slot's ids, for the runs of its tests on a slot the job
 * borrowed (test-slots.ts): a job's dir is mode 0700 and owned by its own slot's ids, which the
 * borrowed slot's containers do not map. Bound read-only like the original.
 */
export function copyJobDir(
  workRoot: string,
  slotBase: number,
  jobDir: string,
  hostId: number,
): Promise<string> {
  return newWorkDir(workRoot, slotBase, [], hostId, (dir) => {
    const budget = { entries: RUN_DIR_MAX_ENTRIES };
    copyTree(jobDir, dir, hostId, budget);
    if (budget.entries < 0)
      throw new Error(`copy ${jobDir} for a borrowed slot: above ${RUN_DIR_MAX_ENTRIES} entries`);
  });
}
