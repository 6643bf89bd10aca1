// Build once, copy to other hosts: an exported image imports byte-for-byte, and a damaged or
// hostile tarball is rejected with a message that says what is wrong, before anything is extracted.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportImage, importImage } from "../../rootfs-recipes/lib/export-import.ts";
import { readManifest } from "../../rootfs-recipes/lib/manifest.ts";
import { hashTree } from "../../rootfs-recipes/lib/tree-hash.ts";
import { type CraftEntry, craftTar } from "./_craft-tar.ts";
import { makeFakeImage } from "./_fake-image.ts";

let work: string;
let source: string;
let target: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "cellblock-export-"));
  source = path.join(work, "source");
  target = path.join(work, "target");
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function exported() {
  const image = await makeFakeImage(source, "lua");
  return { image, ...(await exportImage(source, "lua", path.join(work, "out"))) };
}

/** A tarball with the real image's manifest and the given entries; returns its path. */
async function craftedTar(entries: CraftEntry[]): Promise<string> {
  const { image } = await exported();
  const manifest = await readFile(path.join(image.dir, "manifest.json"), "utf8");
  const file = path.join(work, "crafted.tar");
  await writeFile(file, craftTar([{ name: "manifest.json", content: manifest }, ...entries]));
  return file;
}

describe("image export and import", () => {
  it("an exported image imports on another root with the same tree digest and manifest", async () => {
    const { image, tarFile, sidecarFile } = await exported();
    expect(path.basename(tarFile)).toBe("lua-aaaaaaaaaaaa.tar");
    expect(existsSync(sidecarFile)).toBe(true);
    const imported = await importImage(target, tarFile);
    expect(path.basename(imported)).toBe("lua-aaaaaaaaaaaa");
    expect(await readManifest(imported)).toEqual(image.manifest);
    expect((await hashTree(path.join(imported, "rootfs"))).sha256).toBe(image.manifest.tree.sha256);
    expect((await readdir(target)).filter((n) => n.startsWith(".tmp"))).toEqual([]);
  });

  it("a tarball with a flipped byte is rejected as damaged by its sidecar digest", async () => {
    const { tarFile } = await exported();
    const bytes = await readFile(tarFile);
    bytes[700] = (bytes[700] ?? 0) ^ 0xff;
    await writeFile(tarFile, bytes);
    await expect(importImage(target, tarFile)).rejects.toThrow(
      /rejected: sha256 differs .*damaged or altered/,
    );
  });

  it("a tarball with a corrupt header and no sidecar is rejected by the header checksum", async () => {
    const { tarFile, sidecarFile } = await exported();
    await rm(sidecarFile);
    const bytes = await readFile(tarFile);
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    await writeFile(tarFile, bytes);
    await expect(importImage(target, tarFile)).rejects.toThrow(
      /rejected: header checksum mismatch at byte 0 \(damaged file\)/,
    );
    expect(existsSync(target) ? await readdir(target) : []).toEqual([]);
  });

  it("a truncated tarball is rejected", async () => {
    const { tarFile, sidecarFile } = await exported();
    await rm(sidecarFile);
    const bytes = await readFile(tarFile);
    await writeFile(tarFile, bytes.subarray(0, 1536));
    await expect(importImage(target, tarFile)).rejects.toThrow(/rejected: truncated/);
  });

  it("a well-formed tarball whose files differ from the manifest's tree digest is rejected", async () => {
    const file = await craftedTar([
      { name: "rootfs/", type: "5", mode: 0o755 },
      { name: "rootfs/usr/", type: "5", mode: 0o755 },
      { name: "rootfs/usr/bin/", type: "5", mode: 0o755 },
      { name: "rootfs/usr/bin/hello", mode: 0o755, content: "#!/bin/sh\necho owned\n" },
    ]);
    await expect(importImage(target, file)).rejects.toThrow(/rejected: tree digest .* \(content altered\)/);
    expect((await readdir(target)).filter((n) => n.startsWith(".tmp"))).toEqual([]);
  });

  it("a tarball without manifest.json is rejected", async () => {
    const file = path.join(work, "no-manifest.tar");
    await writeFile(file, craftTar([{ name: "rootfs/", type: "5", mode: 0o755 }]));
    await expect(importImage(target, file)).rejects.toThrow(/rejected: no manifest.json/);
  });

  const hostile: Array<[string, CraftEntry, RegExp]> = [
    ["an absolute path", { name: "/etc/cron.d/x", content: "x" }, /"\/etc\/cron.d\/x" is an absolute path/],
    ["a .. path", { name: "rootfs/../../etc/x", content: "x" }, /contains "\.\."/],
    ["an entry outside rootfs/", { name: "elsewhere/x", content: "x" }, /outside manifest.json and rootfs\//],
    ["a character device", { name: "rootfs/dev/mem", type: "3" }, /"rootfs\/dev\/mem" is a device node/],
    [
      "a setuid binary",
      { name: "rootfs/su", mode: 0o4755, content: "x" },
      /setuid or setgid bit \(mode 4755\)/,
    ],
    [
      "a hard link out of the tree",
      { name: "rootfs/h", type: "1", linkTarget: "../../etc/shadow" },
      /contains "\.\."/,
    ],
  ];
  for (const [what, entry, message] of hostile) {
    it(`a tarball with ${what} is rejected before extraction`, async () => {
      await expect(importImage(target, await craftedTar([entry]))).rejects.toThrow(message);
      expect((await readdir(target).catch(() => [])).length).toBe(0);
    });
  }

  it("a tarball that writes through its own symlink is rejected before extraction", async () => {
    const entries: CraftEntry[] = [
      { name: "rootfs/", type: "5", mode: 0o755 },
      { name: "rootfs/etc", type: "2", linkTarget: "/etc" },
      { name: "rootfs/etc/passwd", content: "root::0:0::/:/bin/sh\n" },
    ];
    await expect(importImage(target, await craftedTar(entries))).rejects.toThrow(
      /goes through the symlink "rootfs\/etc"/,
    );
  });
});
