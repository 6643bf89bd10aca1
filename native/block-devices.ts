// The block devices behind the paths a run can read or write, as the whole disks that disk I/O
// throttling names (v1 blkio.throttle.*_device and v2 io.max take a disk, not a partition).
//
// A path's st_dev is the device of its filesystem. Three cases:
//   - a partition (/sys/dev/block/M:m/partition exists): throttle its parent disk, whose "dev"
//     file is one directory up in sysfs;
//   - a whole disk, or a device-mapper/md/loop device (no "partition" file): throttle it as is;
//   - no block device at all (tmpfs, overlayfs, procfs, btrfs's anonymous 0:N numbers — nothing
//     under /sys/dev/block): nothing to throttle. tmpfs holds pages in RAM, charged to the memory
//     limit; overlayfs's lower layers are on some disk we cannot name from here, so an image on
//     overlayfs is not throttled (docs/ARCHITECTURE.md, threat model item 5, says so).
// Results are cached per st_dev: a run costs one stat per distinct source path.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** How many disks one run's limits may name (SB_IO_MAX_DEVICES in native/src/cgroup.h). */
export const MAX_IO_DEVICES = 16;

export type Disk = [major: number, minor: number];

/** Reads sysfs; a parameter so tests can hand in a fixture tree. */
export interface SysBlock {
  exists(path: string): boolean;
  read(path: string): string;
  realpath(path: string): string;
}

const realSys: SysBlock = {
  exists: existsSync,
  read: (p) => readFileSync(p, "utf8"),
  realpath: realpathSync,
};

/** glibc's major()/minor() of a 64-bit dev_t. */
export function splitDev(dev: bigint): Disk {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return [Number(major), Number(minor)];
}

/** The whole disk holding device major:minor, or null when it is not a block device. */
export function wholeDisk([major, minor]: Disk, sys: SysBlock = realSys): Disk | null {
  const node = `/sys/dev/block/${major}:${minor}`;
  if (!sys.exists(node)) return null;
  if (!sys.exists(join(node, "partition"))) return [major, minor];
  const parent = sys.read(join(dirname(sys.realpath(node)), "dev")).trim();
  const m = /^(\d+):(\d+)$/.exec(parent);
  if (!m)
    throw new Error(`read the parent disk of block device ${major}:${minor}: "${parent}" is no major:minor`);
  return [Number(m[1]), Number(m[2])];
}

const cache = new Map<bigint, Disk | null>();

/** The whole disk behind path's filesystem (cached per device), or null for tmpfs, overlayfs and the like. */
export function diskOfPath(path: string): Disk | null {
  const dev = statSync(path, { bigint: true }).dev;
  let disk = cache.get(dev);
  if (disk === undefined) {
    disk = wholeDisk(splitDev(dev));
    cache.set(dev, disk);
  }
  return disk;
}

/** The distinct whole disks behind paths, in first-seen order. Throws past MAX_IO_DEVICES. */
export function disksOfPaths(
  paths: readonly string[],
  diskOf: (path: string) => Disk | null = diskOfPath,
): Disk[] {
  const seen = new Map<string, Disk>();
  for (const path of paths) {
    const disk = diskOf(path);
    if (disk) seen.set(`${disk[0]}:${disk[1]}`, disk);
  }
  if (seen.size > MAX_IO_DEVICES)
    throw new Error(
      `disk I/O limits: the run's paths lie on ${seen.size} disks (${[...seen.keys()].join(", ")}), more than ${MAX_IO_DEVICES}`,
    );
  return [...seen.values()];
}
