import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { inUseDirOf } from "./image-paths.ts";

// How a worker keeps gc away from an image it may still start runs on: an empty file named after
// its pid in <image>/.in-use/. Marks of dead pids do not count (gc.ts checks liveness), so a
// crashed worker never pins an image forever.

export async function markInUse(imageDir: string, pid = process.pid): Promise<void> {
  await mkdir(inUseDirOf(imageDir), { recursive: true, mode: 0o755 });
  await writeFile(path.join(inUseDirOf(imageDir), String(pid)), "");
}

export async function releaseInUse(imageDir: string, pid = process.pid): Promise<void> {
  await rm(path.join(inUseDirOf(imageDir), String(pid)), { force: true });
}
