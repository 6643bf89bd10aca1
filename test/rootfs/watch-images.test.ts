// The worker learns about a newly published image without a restart.
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchImagesRoot } from "../../rootfs-recipes/lib/watch-images.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "cellblock-watch-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("watching the images root", () => {
  it("publishing an image (a rename into the root) triggers one callback after the burst", async () => {
    let calls = 0;
    const stop = await watchImagesRoot(root, () => calls++, 100);
    try {
      await mkdir(path.join(root, ".built-lua-aaaaaaaaaaaa"));
      await sleep(300);
      expect(calls).toBe(0);
      await rename(path.join(root, ".built-lua-aaaaaaaaaaaa"), path.join(root, "lua-aaaaaaaaaaaa"));
      await mkdir(path.join(root, "go-bbbbbbbbbbbb"));
      await sleep(400);
      expect(calls).toBe(1);
    } finally {
      stop();
    }
  });
});
