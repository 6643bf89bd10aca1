import { isUtf8 } from "node:buffer";
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
} from "node:fs";
import path from "node:path";
import picomatch from "picomatch";
import {
  OUTPUT_FILE_MAX_BYTES,
  OUTPUT_FILES_MAX_COUNT,
  OUTPUT_FILES_MAX_SCANNED,
  OUTPUT_FILES_TOTAL_MAX_BYTES,
  type OutputFile,
  type OutputFiles,
} from "../contract/output-files.ts";

// Reading back what a run wrote, after the run has ended (nothing in the sandbox runs any more).
// The worker reads as root on the host from a dir the program controlled, so: the tree is walked
// with readdir's own entry types (lstat semantics: a symlink is never followed, into a dir or to a
// file); only regular files are opened, with O_NOFOLLOW | O_NONBLOCK and checked again with fstat
// (a FIFO can never block the worker); the walk stops after OUTPUT_FILES_MAX_SCANNED entries; at
// most OUTPUT_FILES_MAX_COUNT files are listed, each read up to OUTPUT_FILE_MAX_BYTES, all of a
// run's together up to OUTPUT_FILES_TOTAL_MAX_BYTES and all of a job's up to
// OUTPUT_FILES_JOB_MAX_BYTES. Globs are matched with picomatch (dotfiles too).

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The files of `dir` matching `patterns`. `jobBudget` is what the job's result may still carry
 * (OUTPUT_FILES_JOB_MAX_BYTES over all runs); what this run's files take is subtracted from it.
 */
export function collectOutputFiles(
  dir: string,
  patterns: string[],
  jobBudget: { bytes: number },
): OutputFiles {
  const matches = picomatch(patterns, { dot: true });
  const found: { relative: string; entry: Dirent }[] = [];
  let scanned = 0;
  let truncated = false;
  const pending = [""];
  while (pending.length > 0 && !truncated) {
    const relativeDir = pending.shift() as string;
    for (const entry of readdirSync(path.join(dir, relativeDir), { withFileTypes: true })) {
      if (++scanned > OUTPUT_FILES_MAX_SCANNED) {
        truncated = true;
        break;
      }
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) pending.push(relative);
      else if (matches(relative)) found.push({ relative, entry });
    }
  }
  found.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  if (found.length > OUTPUT_FILES_MAX_COUNT) truncated = true;
  const budget = { bytes: Math.min(OUTPUT_FILES_TOTAL_MAX_BYTES, jobBudget.bytes) };
  const before = budget.bytes;
  const files = found
    .slice(0, OUTPUT_FILES_MAX_COUNT)
    .map(({ relative, entry }) => outputFile(dir, relative, entry, budget));
  jobBudget.bytes -= before - budget.bytes;
  return { files, truncated };
}

function outputFile(dir: string, relative: string, entry: Dirent, budget: { bytes: number }): OutputFile {
  const listed = (type: OutputFile["type"]): OutputFile => ({
    path: relative,
    type,
    sizeBytes: 0,
    encoding: "utf8",
    content: "",
    truncated: false,
  });
  if (entry.isSymbolicLink()) return listed("symlink");
  if (!entry.isFile()) return listed("other");
  const read = readRegularFile(path.join(dir, relative), Math.min(OUTPUT_FILE_MAX_BYTES, budget.bytes));
  if (!read) return listed("other");
  budget.bytes -= read.data.length;
  const text = isUtf8(read.data) && !read.data.includes(0);
  return {
    path: relative,
    type: "file",
    sizeBytes: read.sizeBytes,
    encoding: text ? "utf8" : "base64",
    content: read.data.toString(text ? "utf8" : "base64"),
    truncated: read.data.length < read.sizeBytes,
  };
}

/** Up to maxBytes of a regular file, never following a final symlink nor blocking on a FIFO. */
export function readRegularFile(file: string, maxBytes: number): { data: Buffer; sizeBytes: number } | null {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return null;
    const data = Buffer.alloc(Math.min(maxBytes, stat.size));
    let length = 0;
    while (length < data.length) {
      const n = readSync(fd, data, length, data.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return { data: data.subarray(0, length), sizeBytes: stat.size };
  } finally {
    closeSync(fd);
  }
}

/**
 * A file of the run's dir by its relative path (a test's compareFile): every parent must be a real
 * directory, not a symlink, and the file itself a regular file; otherwise null.
 */
export function readRunFile(dir: string, relative: string, maxBytes: number) {
  const segments = relative.split("/");
  let parent = dir;
  for (const segment of segments.slice(0, -1)) {
    parent = path.join(parent, segment);
    const isDir = lstatSync(parent, { throwIfNoEntry: false })?.isDirectory();
    if (!isDir) return null;
  }
  return readRegularFile(path.join(parent, segments.at(-1) as string), maxBytes);
}
