// A borrowed slot's copy of a job's dir (worker/run-dir.ts copyJobDir) must equal what the job's
// own slot sees, or the job does not fan out (copiesWhole).
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeFifo } from "../../native/index.ts";
import { copiesWhole, copyJobDir } from "../../worker/run-dir.ts";
import { removeWorkDir } from "../../worker/work-dir.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeWorkDir(dir);
});

function jobDir(): string {
  const dir = fs.mkdtempSync(path.join("/dev/shm", "cellblock-test-rundir-"));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, "sub"));
  fs.writeFileSync(path.join(dir, "sub", "main"), "#!/bin/sh\n", { mode: 0o4755 });
  fs.symlinkSync("/etc/passwd", path.join(dir, "link"));
  return dir;
}

describe("a job dir's copy for a borrowed slot", () => {
  it("has every file, dir and symlink, owned by the slot's id, without setuid", async () => {
    const source = jobDir();
    expect(copiesWhole(source)).toBe(true);
    const root = fs.mkdtempSync(path.join("/dev/shm", "cellblock-test-workroot-"));
    dirs.push(root);
    const copy = await copyJobDir(root, 300_000, source, 301_000);
    const main = fs.statSync(path.join(copy, "sub", "main"));
    expect(main.uid).toBe(301_000);
    expect(main.mode & 0o7777).toBe(0o755);
    expect(fs.readlinkSync(path.join(copy, "link"))).toBe("/etc/passwd");
    expect(fs.statSync(copy).mode & 0o777).toBe(0o700);
  });

  it("a dir holding a FIFO does not copy whole, so its job keeps one slot", () => {
    const source = jobDir();
    makeFifo(path.join(source, "sub", "pipe"), 0o600);
    expect(copiesWhole(source)).toBe(false);
  });
});
