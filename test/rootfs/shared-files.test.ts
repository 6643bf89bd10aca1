// Files common to images are stored once: identical files become one inode, anything a hard link
// would make two paths share (mode, owner, mtime) keeps files apart, nothing a tool reads changes,
// gc frees what no image holds, and an exported image stays self-contained.
import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diskUsage } from "../../rootfs-recipes/lib/disk-usage.ts";
import { exportImage, importImage } from "../../rootfs-recipes/lib/export-import.ts";
import { rootfsOf } from "../../rootfs-recipes/lib/image-paths.ts";
import { runCommand } from "../../rootfs-recipes/lib/run-command.ts";
import {
  objectsDirOf,
  pruneObjects,
  shareTree,
  type TreeFile,
} from "../../rootfs-recipes/lib/shared-files.ts";
import { hashTree } from "../../rootfs-recipes/lib/tree-hash.ts";
import { makeFakeImage } from "./_fake-image.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "cellblock-shared-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const DEB_TIME = new Date("2023-01-01T00:00:00Z");

/** A tree with the given files (content, mode), every file and directory dated DEB_TIME. */
async function makeTree(name: string, files: Record<string, { content: string; mode?: number }>) {
  const tree = path.join(root, name, "rootfs");
  for (const [rel, { content, mode }] of Object.entries(files)) {
    const file = path.join(tree, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    await chmod(file, mode ?? 0o644);
    await utimes(file, DEB_TIME, DEB_TIME);
  }
  for (const dir of ["", "usr", "usr/lib", "etc"]) {
    if (existsSync(path.join(tree, dir))) await utimes(path.join(tree, dir), DEB_TIME, DEB_TIME);
  }
  return tree;
}

async function share(tree: string) {
  const files: TreeFile[] = [];
  const digest = await hashTree(tree, (relPath, sha256, stat) => files.push({ relPath, sha256, stat }));
  const result = await shareTree(root, tree, files);
  return { digest, result };
}

const LIBC = { content: "pretend this is libc.so.6\n".repeat(100) };

describe("files shared between image trees", () => {
  it("an identical file in two trees becomes one inode and both tree digests stay the same", async () => {
    const a = await makeTree("a", { "usr/lib/libc.so.6": LIBC, "etc/a": { content: "a\n" } });
    const b = await makeTree("b", { "usr/lib/libc.so.6": LIBC, "etc/b": { content: "b\n" } });
    const before = [await hashTree(a), await hashTree(b)];
    const first = await share(a);
    const second = await share(b);
    expect(first.result).toMatchObject({ linked: 0, stored: 2 });
    expect(second.result).toMatchObject({ linked: 1, stored: 1, bytesSaved: LIBC.content.length });
    const [inA, inB] = [
      await lstat(path.join(a, "usr/lib/libc.so.6")),
      await lstat(path.join(b, "usr/lib/libc.so.6")),
    ];
    expect(inA.ino).toBe(inB.ino);
    expect(inA.nlink).toBe(3); // two trees and the store
    expect([first.digest, second.digest]).toEqual(before);
    expect([await hashTree(a), await hashTree(b)]).toEqual(before);
  });

  it("sharing twice changes nothing the second time", async () => {
    const a = await makeTree("a", { "usr/lib/libc.so.6": LIBC });
    await share(a);
    const again = await share(a);
    expect(again.result).toEqual({ linked: 0, stored: 0, bytesSaved: 0 });
  });

  it("files with the same content but another mode or mtime stay separate inodes", async () => {
    const a = await makeTree("a", { "usr/lib/tool": { content: "#!/bin/sh\n", mode: 0o755 } });
    const b = await makeTree("b", { "usr/lib/tool": { content: "#!/bin/sh\n", mode: 0o644 } });
    const c = await makeTree("c", { "usr/lib/tool": { content: "#!/bin/sh\n", mode: 0o755 } });
    await utimes(path.join(c, "usr/lib/tool"), new Date(), new Date());
    for (const tree of [a, b, c]) await share(tree);
    const inodes = new Set<number>();
    for (const tree of [a, b, c]) inodes.add((await lstat(path.join(tree, "usr/lib/tool"))).ino);
    expect(inodes.size).toBe(3);
    expect((await lstat(path.join(b, "usr/lib/tool"))).mode & 0o777).toBe(0o644);
  });

  it("the directories of linked files keep their modification times", async () => {
    const a = await makeTree("a", { "usr/lib/libc.so.6": LIBC });
    const b = await makeTree("b", { "usr/lib/libc.so.6": LIBC });
    await share(a);
    await share(b);
    expect((await lstat(path.join(b, "usr/lib"))).mtimeMs).toBe(DEB_TIME.getTime());
    expect((await readdir(path.join(b, "usr/lib"))).sort()).toEqual(["libc.so.6"]);
  });

  it("empty files are not linked", async () => {
    const a = await makeTree("a", { "etc/empty": { content: "" } });
    const b = await makeTree("b", { "etc/empty": { content: "" } });
    await share(a);
    await share(b);
    expect((await lstat(path.join(b, "etc/empty"))).nlink).toBe(1);
  });

  it("gc's prune removes the objects of deleted trees and keeps those still linked", async () => {
    const a = await makeTree("a", { "usr/lib/libc.so.6": LIBC, "etc/only-a": { content: "only a\n" } });
    const b = await makeTree("b", { "usr/lib/libc.so.6": LIBC });
    await share(a);
    await share(b);
    expect(await pruneObjects(root)).toEqual({ removed: 0, bytes: 0 });
    await rm(path.join(root, "a"), { recursive: true });
    expect(await pruneObjects(root, { dryRun: true })).toEqual({ removed: 1, bytes: 7 });
    expect(await pruneObjects(root)).toEqual({ removed: 1, bytes: 7 });
    await rm(path.join(root, "b"), { recursive: true });
    expect(await pruneObjects(root)).toMatchObject({ removed: 1 });
    const left = await readdir(objectsDirOf(root), { recursive: true, withFileTypes: true });
    expect(left.filter((entry) => entry.isFile())).toEqual([]);
  });

  it("an exported image holds its shared files whole, and imports into another root sharing again", async () => {
    const images = path.join(root, "images");
    const { dir } = await makeFakeImage(images, "lua");
    const other = await makeFakeImage(images, "perl");
    await share(rootfsOf(dir));
    await share(rootfsOf(other.dir));
    expect((await lstat(path.join(rootfsOf(dir), "usr/bin/hello"))).nlink).toBeGreaterThan(2);
    const { tarFile } = await exportImage(images, "lua", path.join(root, "out"));
    const { stdout } = await runCommand(["tar", "-tvf", tarFile]);
    expect(stdout).not.toMatch(/ link to /);
    const target = path.join(root, "target");
    const imported = await importImage(target, tarFile);
    const hello = await lstat(path.join(rootfsOf(imported), "usr/bin/hello"));
    expect(hello.nlink).toBe(2); // the imported tree and the new root's store
    expect(existsSync(objectsDirOf(target))).toBe(true);
  });
});

describe("disk usage of image trees", () => {
  it("counts a shared file once on disk and once per tree when the trees stand alone", async () => {
    const a = await makeTree("a", { "usr/lib/libc.so.6": LIBC });
    const b = await makeTree("b", { "usr/lib/libc.so.6": LIBC });
    const unshared = await diskUsage([a, b]);
    expect(unshared.onDiskBytes).toBe(unshared.separateBytes);
    await share(a);
    await share(b);
    const shared = await diskUsage([a, b]);
    const fileBytes = (await lstat(path.join(a, "usr/lib/libc.so.6"))).blocks * 512;
    expect(shared.separateBytes).toBe(unshared.separateBytes);
    expect(shared.onDiskBytes).toBe(unshared.onDiskBytes - fileBytes);
  });
});
