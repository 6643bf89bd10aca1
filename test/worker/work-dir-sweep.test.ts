import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkDir, prepareWorkRoot } from "../../worker/work-dir.ts";

// Regression (found by the chaos run): a worker SIGKILLed mid-job left its job's work dir on the
// tmpfs work root forever. Work dirs carry the worker's pid; a worker starting up removes those of
// dead workers and leaves live workers' dirs alone.

let root: string;

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  return spawnSync("true").pid as number;
}

describe("work dirs that cannot be completed", () => {
  it("a work dir whose files cannot all be written is removed before the error is thrown", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "cellblock-test-workroot-"));
    // "a" is a file, so "a/b" cannot be created: the write fails half-way, as on a full tmpfs.
    const files = [
      { path: "a", data: Buffer.from("x") },
      { path: "a/b", data: Buffer.from("y") },
    ];
    await expect(createWorkDir(root, files, process.getuid?.() ?? 0)).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe("work dirs of dead workers", () => {
  it("a work dir left by a SIGKILLed worker is removed when a worker starts; live workers' dirs stay", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "cellblock-test-workroot-"));
    const dead = path.join(root, `job-${deadPid()}-0a1b`);
    mkdirSync(path.join(dead, "sub"), { recursive: true });
    writeFileSync(path.join(dead, "sub", "main.py"), "print(1)");
    const alive = await createWorkDir(
      root,
      [{ path: "main.py", data: Buffer.from("x") }],
      process.getuid?.() ?? 0,
    );
    const parent = path.join(root, `job-${process.ppid}-live`);
    mkdirSync(parent);
    const unknown = path.join(root, "not-a-job-dir");
    mkdirSync(unknown);

    await prepareWorkRoot(root);

    expect(existsSync(dead)).toBe(false);
    expect(path.basename(alive)).toMatch(new RegExp(`^job-${process.pid}-`));
    expect(existsSync(alive)).toBe(true);
    expect(existsSync(parent)).toBe(true);
    expect(existsSync(unknown)).toBe(true);
  });
});
