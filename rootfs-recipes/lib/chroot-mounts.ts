import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { runCommand } from "./run-command.ts";

// The only mount the driver makes: /proc inside the build chroot (JVM and ca-certificates
// maintainer scripts read it). It lives only for the duration of one callback and is unmounted in
// `finally`; a build that dies leaves it behind only if the process itself is killed, and
// assertNoMountsUnder() stops any recursive delete from walking into such a leftover.

/** Mount points currently under `dir` (from /proc/self/mountinfo), deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = `${path.resolve(dir)}/`;
  const info = await readFile("/proc/self/mountinfo", "utf8");
  return info
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((mountPoint): mountPoint is string => mountPoint?.startsWith(prefix) === true)
    .map((mountPoint) => mountPoint.replace(/\\040/g, " "))
    .sort((a, b) => b.length - a.length);
}

export async function assertNoMountsUnder(dir: string): Promise<void> {
  const mounts = await mountsUnder(dir);
  if (mounts.length > 0) {
    throw new Error(`refusing to delete ${dir}: still mounted: ${mounts.join(", ")} (umount them first)`);
  }
}

async function unmount(target: string): Promise<void> {
  try {
    await runCommand(["umount", target]);
  } catch {
    // A straggling process in the chroot keeps it busy; detach it so nothing stays visible.
    await runCommand(["umount", "--lazy", target]);
  }
}

/** Unmounts whatever a failed tool (debootstrap) left under `dir`, deepest first. */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (const target of await mountsUnder(dir)) await unmount(target);
}

/** Runs `fn` with /proc mounted into `rootfs`; always unmounts. */
export async function withChrootProc<T>(rootfs: string, fn: () => Promise<T>): Promise<T> {
  const proc = path.join(rootfs, "proc");
  await mkdir(proc, { recursive: true });
  await runCommand(["mount", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc", proc]);
  try {
    return await fn();
  } finally {
    await unmount(proc);
  }
}
