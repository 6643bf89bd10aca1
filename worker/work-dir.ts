import { randomUUID } from "node:crypto";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { JobFile } from "../contract/job-request.ts";

// The per-job work dir, bound at /box inside each step's sandbox. It lives on tmpfs (WORK_ROOT,
// default /dev/shm) so the files a compile step writes are charged to that step's memory cgroup.
// It belongs to the slot's unprivileged host id for the job's uid (contract/sandbox-identity.ts
// jobHostId) with mode 0700, so no other slot's job can read it. The owner of a work dir is the
// job that created it: removeWorkDir() runs in a finally on every path.

/**
 * Creates the work root once at worker start. Mode 0711: the sandbox mounts a job's dir with the
 * slot's unprivileged credentials, which must be able to traverse (not list) the root.
 * Then removes the dirs of dead worker processes: a worker killed mid-job (SIGKILL, OOM kill)
 * never reaches its finally, and its job's files would stay on tmpfs, holding memory, forever
 * (found by the chaos run, test/reliability/). Dir names carry the creating worker's pid; several
 * workers may share a work root on one host, so only dirs of pids no longer alive are removed.
 */
export async function prepareWorkRoot(workRoot: string): Promise<void> {
  await mkdir(workRoot, { recursive: true, mode: 0o711 });
  await chmod(workRoot, 0o711);
  for (const name of await readdir(workRoot)) {
    const pid = Number(/^job-(\d+)-/.exec(name)?.[1]);
    if (pid > 0 && pid !== process.pid && !pidAlive(pid)) await removeWorkDir(path.join(workRoot, name));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes the job's files into a fresh dir owned by the slot's host uid. Synchronous on purpose: a
 * job has a handful of small files on tmpfs, and six thread-pool round trips cost more than the
 * writes themselves (this is on every job's critical path).
 */
export async function createWorkDir(
  workRoot: string,
  files: { path: string; data: Buffer }[],
  hostUid: number,
) {
  const dir = path.join(workRoot, `job-${process.pid}-${randomUUID()}`);
  mkdirSync(dir, { mode: 0o700 });
  try {
    writeJobFiles(dir, files, hostUid);
  } catch (error) {
    // A full work root (ENOSPC) fails here half-way: the caller never gets the dir to remove, so
    // remove it now, or it stays for good (the chaos run's work-root-full fault checks this).
    await removeWorkDir(dir);
    throw error;
  }
  return dir;
}

function writeJobFiles(dir: string, files: { path: string; data: Buffer }[], hostUid: number): void {
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

function chownParents(dir: string, parent: string, uid: number): void {
  for (let p = parent; p !== dir && p.startsWith(`${dir}/`); p = path.dirname(p)) chownSync(p, uid, uid);
}

export async function removeWorkDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
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
