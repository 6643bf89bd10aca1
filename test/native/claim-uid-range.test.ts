// Two workers on one host never share a uid range (issue 9 item 12): each holds an flock per slot
// block for its life; a worker whose configured range is taken claims the next free one, and a
// dead worker's range is free again at once. The other worker here is a real second process.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { workerUidBase } from "../../contract/sandbox-identity.ts";
import { claimUidRange } from "../../native/claim-uid-range.ts";
import { requireSearchable } from "../../native/real-host.ts";

// Far above the blocks that tests and workers on this machine use.
const UID_BASE = 50_000_000;
const repoRoot = path.resolve(import.meta.dirname, "../..");
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function lockDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellblock-test-locks-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Another worker process holding its claim until killed; resolves with the uid base it got. */
async function otherWorker(
  dir: string,
  slotOffset: number,
  slots: number,
): Promise<{ child: ChildProcess; uidBase: number }> {
  const script = `import { claimUidRange } from "./native/claim-uid-range.ts";
const claim = claimUidRange(${JSON.stringify({ lockDir: dir, uidBase: UID_BASE, slotOffset, slots })});
console.log(claim.uidBase);
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  cleanups.push(() => child.kill("SIGKILL"));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once("exit", (code) => reject(new Error(`claiming process exited with ${code}`)));
  });
  return { child, uidBase: Number(line) };
}

describe("uid range claims", () => {
  it("a second worker configured with the same range claims the next free blocks, never a shared one", async () => {
    const dir = lockDir();
    const first = await otherWorker(dir, 0, 2);
    expect(first.uidBase).toBe(workerUidBase(UID_BASE, 0));
    const second = claimUidRange({ lockDir: dir, uidBase: UID_BASE, slotOffset: 0, slots: 2 });
    cleanups.push(second.release);
    expect(second.uidBase).toBe(workerUidBase(UID_BASE, 2));
    expect(second.slotBases).toEqual([workerUidBase(UID_BASE, 2), workerUidBase(UID_BASE, 3)]);
  });

  it("a range overlapping a live worker's by one block moves past that block", async () => {
    const dir = lockDir();
    await otherWorker(dir, 1, 1);
    const claim = claimUidRange({ lockDir: dir, uidBase: UID_BASE, slotOffset: 0, slots: 2 });
    cleanups.push(claim.release);
    expect(claim.uidBase).toBe(workerUidBase(UID_BASE, 2));
  });

  it("a worker killed outright frees its range at once", async () => {
    const dir = lockDir();
    const dead = await otherWorker(dir, 0, 2);
    const exited = new Promise((resolve) => dead.child.once("exit", resolve));
    dead.child.kill("SIGKILL");
    await exited;
    const claim = claimUidRange({ lockDir: dir, uidBase: UID_BASE, slotOffset: 0, slots: 2 });
    cleanups.push(claim.release);
    expect(claim.uidBase).toBe(workerUidBase(UID_BASE, 0));
  });

  it("the lock dir it creates stays searchable, as the new-root mount point below its default needs", () => {
    // On a fresh host the default lock dir (/run/cellblock) was made 0700 before the new-root
    // mount point below it, and every container's setup child (a slot id) failed with EACCES.
    const parent = lockDir();
    fs.chmodSync(parent, 0o711); // mkdtemp's 0700 would hide the rest
    const lock = path.join(parent, "run-cellblock");
    const claim = claimUidRange({ lockDir: lock, uidBase: UID_BASE, slotOffset: 0, slots: 1 });
    cleanups.push(claim.release);
    const newRoot = path.join(lock, "newroot");
    fs.mkdirSync(newRoot);
    expect(fs.statSync(lock).mode & 0o777).toBe(0o755);
    expect(() => requireSearchable(newRoot)).not.toThrow();
  });

  it("a new-root mount point under a dir others cannot search is refused, naming that dir", () => {
    const parent = lockDir();
    const newRoot = path.join(parent, "newroot");
    fs.mkdirSync(newRoot);
    fs.chmodSync(parent, 0o700);
    expect(() => requireSearchable(newRoot)).toThrow(`${parent} is mode 0700, not searchable`);
    fs.chmodSync(parent, 0o711);
    expect(() => requireSearchable(newRoot)).not.toThrow();
  });
});
