import { randomUUID } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { chmod, lstat, mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { JobFile } from "../contract/job-request.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { removeTree, treeBytes } from "../native/host-files.ts";

// The per-job work dir, bound at /box inside each step's sandbox. It lives on tmpfs (WORK_ROOT,
// default /dev/shm) so the files a compile step writes are charged to that step's memory cgroup.
// It belongs to the slot's unprivileged host id for the job's uid (contract/sandbox-identity.ts
// jobHostId) with mode 0700, so no other slot's job can read it. The owner of a work dir is the
// job that created it: runJob names the dir, then creates, uses and removes it inside one
// try/finally, so a dir whose creation failed half-way is removed too. Removal is
// descriptor-relative (native removeTree), so no tree a compile step can build (thousands of
// levels, mode 000 dirs) outlives its job. A dir's name carries the first host id of its slot's
// uid block (job-<block>-<uuid>); a worker starting up removes the dirs of blocks no live worker
// holds (sweepWorkRoot), which is what a worker killed outright leaves behind.

/**
 * Creates the work root once at worker start. Mode 0711: the sandbox mounts a job's dir with the
 * slot's unprivileged credentials, which must be able to traverse (not list) the root.
 */
export async function prepareWorkRoot(workRoot: string): Promise<void> {
  await mkdir(workRoot, { recursive: true, mode: 0o711 });
  // The default lives in a world-writable /dev/shm, where another user may have made the name
  // first (a dir or a symlink of theirs): refused by name rather than used.
  const st = await lstat(workRoot);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid)
    throw new Error(
      `start worker: WORK_ROOT ${workRoot} is not a directory of this worker's uid ${uid}; remove it or set WORK_ROOT`,
    );
  await chmod(workRoot, 0o711);
}

const WORK_DIR_NAME = /^job-(\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A fresh work dir path for a job in the slot whose uid block starts at host id `slotBase`. */
export function workDirPath(workRoot: string, slotBase: number): string {
  return path.join(workRoot, `job-${slotBase}-${randomUUID()}`);
}

/**
 * Writes the job's files into the fresh dir `dir`, owned by the slot's host uid. Synchronous on
 * purpose: a job has a handful of small files on tmpfs, and six thread-pool round trips cost more
 * than the writes themselves (this is on every job's critical path).
 */
export function createWorkDir(dir: string, files: { path: string; data: Buffer }[], hostUid: number): void {
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, hostUid, hostUid);
  for (const file of files) {
    // Paths were validated as plain relative segments at the edge; resolve once more so a bug there
    // can never write outside the dir.
    const target = path.resolve(dir, file.path);
    if (!target.startsWith(`${dir}/`)) throw new Error(`write job file ${file.path}: escapes the work dir`);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    chownParents(dir, path.dirname(target), hostUid);
    writeFileSync(target, file.data, { mode: 0o600 });
    chownSync(target, hostUid, hostUid);
  }
}

/**
 * A fresh work dir in the slot's name (workDirPath) with `files`, then `fill(dir)` if given; when
 * either fails half-way the dir is removed before the error goes on, so nothing stays on tmpfs.
 * For the dirs a job needs besides its own (a judge program's, a test run's copy).
 */
export async function newWorkDir(
  workRoot: string,
  slotBase: number,
  files: { path: string; data: Buffer }[],
  hostUid: number,
  fill?: (dir: string) => void,
): Promise<string> {
  const dir = workDirPath(workRoot, slotBase);
  try {
    createWorkDir(dir, files, hostUid);
    fill?.(dir);
  } catch (error) {
    await removeWorkDir(dir);
    throw error;
  }
  return dir;
}

/**
 * Gives the work dir back its mode and owner after a writable step: a compile step may chmod /box
 * to 000 (or anything), and the runs that follow must still enter it. What the step did to the files
 * inside stays the job's own doing (and its verdict).
 */
export function resetWorkDir(dir: string, hostUid: number): void {
  chownSync(dir, hostUid, hostUid);
  chmodSync(dir, 0o700);
}

/** The least memory a run keeps after the work dir is charged to it, so its program can still start. */
export const WORK_DIR_CHARGE_FLOOR_BYTES = 4 * 1024 * 1024;

/**
 * Measures the compiled work dir once and returns what charges it to a run's memory limit: the
 * files a compile step left in /box stay in host RAM (tmpfs), but the compile step's cgroup is
 * gone, so without this they would count against no limit and a job could hold compile limit + run
 * limit at once. Now a job holds at most its run limit (plus the small floor when the dir alone
 * nearly fills it). Runs never write to /box (it is bound read-only), so one measure serves every test.
 */
export async function workDirCharge(dir: string): Promise<(limits: StepLimitValues) => StepLimitValues> {
  const bytes = await treeBytes(dir);
  return (limits) => {
    const floor = Math.min(limits.memoryBytes, WORK_DIR_CHARGE_FLOOR_BYTES);
    return { ...limits, memoryBytes: Math.max(limits.memoryBytes - bytes, floor) };
  };
}

function chownParents(dir: string, parent: string, uid: number): void {
  for (let p = parent; p !== dir && p.startsWith(`${dir}/`); p = path.dirname(p)) chownSync(p, uid, uid);
}

export async function removeWorkDir(dir: string): Promise<void> {
  await removeTree(dir);
}

export interface WorkRootSweep {
  /** First host ids of this worker's slot blocks. */
  ownBlocks: number[];
  /** Whether this worker is the blocks' first holder in this process (else a live sibling uses them). */
  ownFresh: boolean;
  /** Runs fn holding a block no live worker holds; false when one does. */
  whileUnclaimed(block: number, fn: () => Promise<void>): Promise<boolean>;
}

/**
 * At worker start: removes the work dirs whose slot block no live worker holds (their job's worker
 * died before its finally ran), this worker's own blocks included. Dirs of live workers stay.
 * Returns how many dirs were removed.
 */
export async function sweepWorkRoot(workRoot: string, sweep: WorkRootSweep, log: Logger): Promise<number> {
  let removed = 0;
  for (const name of await readdir(workRoot)) {
    const match = WORK_DIR_NAME.exec(name);
    if (!match) continue;
    const block = Number(match[1]);
    const dir = path.join(workRoot, name);
    const remove = async () => {
      await removeWorkDir(dir);
      removed++;
    };
    if (sweep.ownBlocks.includes(block)) {
      if (sweep.ownFresh) await remove();
    } else {
      await sweep.whileUnclaimed(block, remove);
    }
  }
  if (removed > 0) log.warn({ removed, workRoot }, "removed work dirs left by dead workers");
  return removed;
}

const pendingRemovals = new Set<Promise<void>>();

/**
 * Removes a finished job's dir off its critical path (the result goes back first); the worker's
 * close() waits for every pending removal, so nothing is left behind on shutdown either.
 */
export function removeWorkDirLater(dir: string, log: Logger): void {
  const removal: Promise<void> = removeWorkDir(dir)
    .catch((error: Error) => log.error({ err: error, dir }, "remove work dir failed; it stays on tmpfs"))
    .finally(() => pendingRemovals.delete(removal));
  pendingRemovals.add(removal);
}

export async function workDirRemovalsSettled(): Promise<void> {
  await Promise.all([...pendingRemovals]);
}

/** The files of a request as bytes: `source` becomes the language's entry file. */
export function jobFiles(source: string | undefined, files: JobFile[] | undefined, sourceFile: string) {
  if (files) {
    return files.map((f) => ({
      path: f.path,
      data: Buffer.from(f.content, f.encoding === "base64" ? "base64" : "utf8"),
    }));
  }
  return [{ path: sourceFile, data: Buffer.from(source ?? "", "utf8") }];
}
