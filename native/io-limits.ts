// Disk I/O limits of one run (issue 9, item 5): the rates (the spec's own, else the host's
// SANDBOX_IO_* defaults) and the whole disks they apply to — those behind everything the run can
// read or write: the host layout's binds (/usr, /bin, /lib*, /etc files: mount-plan.cc's lists) or
// the image directory, and every bind source. Paths on no block device (tmpfs work dirs) add none.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NativeIoLimits } from "./addon.ts";
import { type Disk, diskOfPath, disksOfPaths } from "./block-devices.ts";
import type { CgroupLayout } from "./detect-cgroups.ts";
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
let hostLayoutPresent: string[] | undefined;
/** Those of them this host has: looked up once, not on every run. */
function hostLayoutSources(): string[] {
  hostLayoutPresent ??= HOST_LAYOUT_SOURCES.filter((p) => existsSync(p));
  return hostLayoutPresent;
}

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
  const roots = spec.rootfs.kind === "image" ? [spec.rootfs.path] : hostLayoutSources();
  const devices = disksOfPaths([...roots, ...spec.binds.map((b) => b.source)], diskOf);
  if (devices.length === 0) return undefined;
  const { readBps, writeBps, readIops, writeIops } = rates;
  return { readBps, writeBps, readIops, writeIops, devices };
}

/** How an operator turns disk I/O limits off, for the errors they can cause. */
export const IO_OFF_HINT =
  "(set SANDBOX_IO_READ_BPS, SANDBOX_IO_WRITE_BPS, SANDBOX_IO_READ_IOPS and SANDBOX_IO_WRITE_IOPS to 0 to run without)";

/** Disk I/O limits are configured: the controller that enforces them must be there, or no run starts. */
export function requireIoController(layout: CgroupLayout, parents: string[]): void {
  if (layout.version === 1 && !layout.controllers.blkio)
    throw new Error(`disk I/O limits: this host has no cgroup v1 blkio hierarchy ${IO_OFF_HINT}`);
  if (layout.version === 2) {
    const enabled = readFileSync(join(parents[0] as string, "cgroup.subtree_control"), "utf8").split(/\s+/);
    if (!enabled.includes("io"))
      throw new Error(`disk I/O limits: the io controller is not available in ${parents[0]} ${IO_OFF_HINT}`);
  }
}
