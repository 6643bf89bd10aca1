// Which cgroup layout this host has, read once at start-up from /proc/self/mountinfo.
//   v2: a cgroup2 filesystem mounted on /sys/fs/cgroup (the unified hierarchy only).
//   v1: per-controller cgroup hierarchies; a "hybrid" host (v1 controllers plus a cgroup2 mount
//       such as /sys/fs/cgroup/unified holding no controllers we need) counts as v1.
// Pure parsing, so both layouts are unit-tested from fixture text.

export type CgroupLayout =
  | { version: 2; root: string }
  | {
      version: 1;
      /** blkio is optional: without it runs get no disk I/O limits (configureSandbox refuses limits then). */
      controllers: { memory: string; pids: string; cpu: string; cpuacct: string; blkio?: string };
    };

const V1_NEEDED = ["memory", "pids", "cpu", "cpuacct"] as const;

interface MountEntry {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const mountPoint = left[4];
    const fsType = right[0];
    if (mountPoint === undefined || fsType === undefined) continue;
    entries.push({
      mountPoint: unescapeMountPath(mountPoint),
      fsType,
      superOptions: (right[2] ?? "").split(","),
    });
  }
  return entries;
}

/** Returns the layout, or throws naming what is missing. */
export function detectCgroupLayout(mountinfo: string): CgroupLayout {
  const mounts = parseMountinfo(mountinfo);
  const unified = mounts.find((m) => m.fsType === "cgroup2" && m.mountPoint === "/sys/fs/cgroup");
  if (unified) return { version: 2, root: unified.mountPoint };
  const found: Partial<Record<(typeof V1_NEEDED)[number] | "blkio", string>> = {};
  for (const m of mounts) {
    if (m.fsType !== "cgroup") continue;
    for (const c of [...V1_NEEDED, "blkio"] as const)
      if (m.superOptions.includes(c) && !found[c]) found[c] = m.mountPoint;
  }
  const missing = V1_NEEDED.filter((c) => !found[c]);
  if (missing.length === 0) {
    const { memory, pids, cpu, cpuacct, blkio } = found as Record<(typeof V1_NEEDED)[number], string> & {
      blkio?: string;
    };
    return { version: 1, controllers: { memory, pids, cpu, cpuacct, ...(blkio ? { blkio } : {}) } };
  }
  const anyV2 = mounts.find((m) => m.fsType === "cgroup2");
  if (anyV2 && missing.length === V1_NEEDED.length) return { version: 2, root: anyV2.mountPoint };
  throw new Error(
    `detect cgroups: no cgroup v2 on /sys/fs/cgroup and cgroup v1 controllers missing: ${missing.join(", ")} (is cgroupfs mounted?)`,
  );
}

/**
 * The directories our runs are created under: one per v1 controller (memory, pids, cpu, cpuacct,
 * then blkio where the host has it: native/src/cgroup.h's order), or one on v2.
 */
export function cgroupParents(layout: CgroupLayout, parentName: string): string[] {
  if (layout.version === 2) return [`${layout.root}/${parentName}`];
  const c = layout.controllers;
  return [c.memory, c.pids, c.cpu, c.cpuacct, ...(c.blkio ? [c.blkio] : [])].map((m) => `${m}/${parentName}`);
}
