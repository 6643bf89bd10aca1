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
   * waiting with no job in it — not a leftover; nor is that init's one child still named
   * cellblock-init, its parked payload ("The payload made ahead": a payload that has exec'd its
   * program bears the program's name). Anything else running as a slot's id still is.
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
  const processes: { pid: number; uid: number; name: string | undefined; parent: number }[] = [];
  for (const entry of list("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, "utf8");
      processes.push({
        pid: Number(entry),
        uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]),
        name: /^Name:\s+(.*)$/m.exec(status)?.[1],
        parent: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]),
      });
    } catch {
      // exited while we looked
    }
  }
  const waitingInits = new Set(
    processes
      .filter((p) => p.name === "cellblock-init" && scope.liveWorkerPids?.includes(p.parent))
      .map((p) => p.pid),
  );
  for (const { pid, uid, name, parent } of processes) {
    const waiting = name === "cellblock-init" && (waitingInits.has(pid) || waitingInits.has(parent));
    if (uid >= uidFirst && uid < uidEnd && !waiting) found.push(`process ${pid} (${name}) uid ${uid}`);
  }
  for (const name of list(scope.workRoot)) found.push(`work dir ${path.join(scope.workRoot, name)}`);
  return found;
}
