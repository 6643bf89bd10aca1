// Which disks a run's I/O limits name (native/block-devices.ts, native/io-limits.ts): a partition
// is throttled through its whole disk, tmpfs and other device-less filesystems through none.
import { describe, expect, it } from "vitest";
import { type Disk, disksOfPaths, type SysBlock, splitDev, wholeDisk } from "../../native/block-devices.ts";
import { NO_IO_LIMITS, nativeIoLimits } from "../../native/io-limits.ts";
import { makeSpec } from "./_fixtures.ts";

/** sysfs as a NVMe host shows it: nvme0n1 (259:0) with partition nvme0n1p2 (259:2), plus dm-0 (253:0). */
const sys: SysBlock = {
  exists: (p) =>
    [
      "/sys/dev/block/259:0",
      "/sys/dev/block/259:2",
      "/sys/dev/block/259:2/partition",
      "/sys/dev/block/253:0",
    ].includes(p),
  read: (p) => {
    if (p === "/sys/devices/pci0000:00/nvme/nvme0/nvme0n1/dev") return "259:0\n";
    throw new Error(`unexpected read ${p}`);
  },
  realpath: (p) => {
    if (p === "/sys/dev/block/259:2") return "/sys/devices/pci0000:00/nvme/nvme0/nvme0n1/nvme0n1p2";
    throw new Error(`unexpected realpath ${p}`);
  },
};

describe("block devices behind a run's paths", () => {
  it("splits a 64-bit dev_t as glibc does, large numbers included", () => {
    // glibc's makedev(): major's low 12 bits at bit 8, its rest at bit 44; minor's low 8 bits at
    // bit 0, its rest at bit 20.
    const makedev = (major: bigint, minor: bigint) =>
      ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
    expect(splitDev(makedev(254n, 0n))).toEqual([254, 0]);
    expect(splitDev(makedev(4096n + 7n, 0x12345n))).toEqual([4103, 0x12345]);
  });

  it("throttles a partition through its whole disk", () => {
    expect(wholeDisk([259, 2], sys)).toEqual([259, 0]);
  });

  it("throttles a whole disk or a device-mapper device as it is", () => {
    expect(wholeDisk([259, 0], sys)).toEqual([259, 0]);
    expect(wholeDisk([253, 0], sys)).toEqual([253, 0]);
  });

  it("finds no disk behind tmpfs, overlayfs or btrfs's anonymous device numbers", () => {
    expect(wholeDisk([0, 45], sys)).toBeNull();
  });

  it("names each disk once, and refuses more disks than the native side can hold", () => {
    const diskOf = (p: string): Disk | null => (p.startsWith("/tmpfs") ? null : [8, Number(p.slice(1))]);
    expect(disksOfPaths(["/1", "/tmpfs/a", "/1", "/2"], diskOf)).toEqual([
      [8, 1],
      [8, 2],
    ]);
    const many = Array.from({ length: 17 }, (_, i) => `/${i}`);
    expect(() => disksOfPaths(many, diskOf)).toThrow(/17 disks/);
  });

  it("asks nothing of the native side when no rate is set", () => {
    expect(nativeIoLimits(makeSpec(["/bin/true"]), NO_IO_LIMITS)).toBeUndefined();
  });

  it("throttles the host layout's disks and every bind's, with the spec's rates over the host's", () => {
    const seen: string[] = [];
    const diskOf = (p: string): Disk | null => {
      seen.push(p);
      return p === "/data" ? [9, 0] : p.startsWith("/usr") ? [8, 0] : null;
    };
    const spec = makeSpec(["/bin/true"], {
      binds: [{ source: "/data", target: "/data", writable: true }],
      limits: { io: { readBps: 5, writeBps: 0, readIops: 0, writeIops: 0 } },
    });
    const host = { readBps: 1, writeBps: 1, readIops: 1, writeIops: 1 };
    expect(nativeIoLimits(spec, host, diskOf)).toEqual({
      readBps: 5,
      writeBps: 0,
      readIops: 0,
      writeIops: 0,
      devices: [
        [8, 0],
        [9, 0],
      ],
    });
    expect(seen).toContain("/usr");
    expect(seen).toContain("/etc");
  });

  it("throttles an image root's disk instead of the host layout's", () => {
    const diskOf = (p: string): Disk | null => (p === "/images/python" ? [7, 3] : null);
    const spec = makeSpec(["/bin/true"], { rootfs: { kind: "image", path: "/images/python" } });
    const io = nativeIoLimits(spec, { ...NO_IO_LIMITS, readBps: 1 }, diskOf);
    expect(io?.devices).toEqual([[7, 3]]);
  });
});
