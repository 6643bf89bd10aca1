// Disk I/O limits of one run (issue 9, item 5): the rates (the spec's own, else the host's
// SANDBOX_IO_* defaults) and the whole disks they apply to — those behind everything the run can
// read or write: the host layout's binds (/usr, /bin, /lib*, /etc files: mount-plan.cc's lists) or
// the image directory, and every bind source. Paths on no block device (tmpfs work dirs) add none.
import { existsSync } from "node:fs";
import type { NativeIoLimits } from "./addon.ts";
import { type Disk, diskOfPath, disksOfPaths } from "./block-devices.ts";
import type { IoLimits, SandboxSpec } from "./types.ts";

/** No throttling: the default of a host configured without SANDBOX_IO_* (tests, the CLI). */
export const NO_IO_LIMITS: Readonly<IoLimits> = Object.freeze({
  readBps: 0,
  writeBps: 0,
  readIops: 0,
  writeIops: 0,
});

/** What the host layout binds from the host (native/src/mount-plan.cc kHostTop, kHostEtc). */
const HOST_LAYOUT_SOURCES = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc"];

export function hasIoLimits(io: IoLimits): boolean {
  return io.readBps + io.writeBps + io.readIops + io.writeIops > 0;
}

/** The addon's io request for spec, or undefined when the run is not throttled. */
export function nativeIoLimits(
  spec: SandboxSpec,
  hostDefault: IoLimits,
  diskOf: (path: string) => Disk | null = diskOfPath,
): NativeIoLimits | undefined {
  const rates = spec.limits.io ?? hostDefault;
  if (!hasIoLimits(rates)) return undefined;
  const roots =
    spec.rootfs.kind === "image" ? [spec.rootfs.path] : HOST_LAYOUT_SOURCES.filter((p) => existsSync(p));
  const devices = disksOfPaths([...roots, ...spec.binds.map((b) => b.source)], diskOf);
  if (devices.length === 0) return undefined;
  const { readBps, writeBps, readIops, writeIops } = rates;
  return { readBps, writeBps, readIops, writeIops, devices };
}
