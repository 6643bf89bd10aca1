import fs from "node:fs";
import path from "node:path";
import { slotIdBase } from "../../../contract/sandbox-identity.ts";

// What a chaos run may have left on the host, scoped to what its own workers made (other sessions
// run sandboxes on this machine at the same time): run cgroups named after one of its worker pids,
// processes running as a host uid of one of its slots, and entries in its work root.

const CGROUP_ROOT = "/sys/fs/cgroup";
const V1_CONTROLLERS = ["memory", "pids", "cpu", "cpuacct", "cpuset", "freezer", "devices", "blkio"];

export interface LeftoverScope {
  workerPids: number[];
  uidBase: number;
  /** Slots [first, end) the run's workers used (their SANDBOX_SLOT_OFFSETs). */
  slots: { first: number; end: number };
  workRoot: string;
  /**
   * Workers still running: a cellblock-init whose parent is one of them is that worker's container
   * made ahead for its slot's next run (docs/ARCHITECTURE.md, "Containers made ahead all the way"),
   * waiting with no job in it — not a leftover. Anything else running as a slot's id still is.
   */
  liveWorkerPids?: number[];
}

function cellblockParents(): string[] {
  const roots = [path.join(CGROUP_ROOT, "cellblock"), path.join(CGROUP_ROOT, "unified", "cellblock")];
  for (const controller of V1_CONTROLLERS) roots.push(path.join(CGROUP_ROOT, controller, "cellblock"));
  return roots.filter((root) => fs.existsSync(root));
}

const list = (dir: string) => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
};

/** Everything left over, one line each; empty when the host is clean. */
export function hostLeftovers(scope: LeftoverScope): string[] {
  const found: string[] = [];
  const pids = new Set(scope.workerPids);
  for (const parent of cellblockParents()) {
    for (const name of list(parent)) {
      const owner = Number(/^(\d+)-s\d+-\d+$/.exec(name)?.[1]);
      if (pids.has(owner)) found.push(`cgroup ${path.join(parent, name)}`);
    }
  }
  const uidFirst = slotIdBase(scope.uidBase, scope.slots.first);
  const uidEnd = slotIdBase(scope.uidBase, scope.slots.end);
  for (const entry of list("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1];
      const parent = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const waiting = name === "cellblock-init" && scope.liveWorkerPids?.includes(parent);
      if (uid >= uidFirst && uid < uidEnd && !waiting) found.push(`process ${entry} (${name}) uid ${uid}`);
    } catch {
      // exited while we looked
    }
  }
  for (const name of list(scope.workRoot)) found.push(`work dir ${path.join(scope.workRoot, name)}`);
  return found;
}
