import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { assertNoMountsUnder, unmountAllUnder } from "./chroot-mounts.ts";
import { progress, runCommand } from "./run-command.ts";

// debootstrap is the slowest step of a first build (minutes), and its result depends only on the
// suite and the mirror. It is done once per (suite, mirror) into <root>/.base/ and copied for each
// image; CI machines keep that directory between runs. The downloaded .debs of later apt-get runs
// are shared the same way (<root>/.apt-archives/), keyed identically.

function cacheKey(suite: string, mirror: string): string {
  return `${suite}-${createHash("sha256").update(mirror).digest("hex").slice(0, 12)}`;
}

export function aptArchivesDir(root: string, suite: string, mirror: string): string {
  return path.join(root, ".apt-archives", cacheKey(suite, mirror));
}

/** Bases being made by this process: parallel builds of one suite wait for one debootstrap. */
const making = new Map<string, Promise<string>>();

/** Returns the cached minbase tree for the suite, running debootstrap first when absent. */
export function ensureBase(root: string, suite: string, mirror: string, label: string): Promise<string> {
  const key = path.join(root, ".base", cacheKey(suite, mirror));
  let base = making.get(key);
  if (!base) {
    base = makeBase(root, suite, mirror, label);
    making.set(key, base);
    // A failed debootstrap may be retried by a later build.
    base.catch(() => making.delete(key));
  }
  return base;
}

async function makeBase(root: string, suite: string, mirror: string, label: string): Promise<string> {
  const base = path.join(root, ".base", cacheKey(suite, mirror));
  if (existsSync(path.join(base, "usr/bin/apt-get"))) {
    progress(label, `base ${suite} from cache ${base}`);
    return base;
  }
  if (!existsSync("/usr/sbin/debootstrap")) {
    throw new Error(
      "debootstrap not found: install it with `apt-get install debootstrap` (needed once per suite)",
    );
  }
  await mkdir(path.dirname(base), { recursive: true });
  const tmp = path.join(root, `.tmp-base-${cacheKey(suite, mirror)}-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  const started = Date.now();
  progress(label, `debootstrap --variant=minbase ${suite} from ${mirror} (takes a few minutes)`);
  try {
    await runCommand(["debootstrap", "--variant=minbase", suite, tmp, mirror]);
    try {
      await rename(tmp, base);
    } catch (error) {
      // Another build finished the same base first; theirs is as good as ours.
      if (!existsSync(path.join(base, "usr/bin/apt-get"))) throw error;
    }
  } finally {
    // debootstrap mounts /proc and /sys in its target and may leave them when it fails.
    await unmountAllUnder(tmp);
    await assertNoMountsUnder(tmp);
    await rm(tmp, { recursive: true, force: true });
  }
  progress(label, `base ${suite} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return base;
}
