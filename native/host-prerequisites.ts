// What a host must offer before any container can start, each checked on its own, so that a failed
// self-check names every missing piece and how to fix it rather than only the first setup step that
// broke ("clone the container: EPERM"). Pure over a read-only view of /proc and /sys, so each missing
// prerequisite is unit-tested from fixture text; the v2 VM test also takes the real ones away.

/** A read-only view of the host: file contents (undefined when absent), our uid, uname's release. */
export interface HostView {
  read(path: string): string | undefined;
  uid: number;
  kernelRelease: string;
}

export interface MissingPrerequisite {
  /**
   * Stable name: kernel, user-namespaces, apparmor-userns, seccomp, cgroup-controllers; for a
   * rootless worker also cgroup-delegation, id-map-helpers, user-name, subid-ranges
   * (native/rootless.ts).
   */
  name: string;
  problem: string;
  fix: string;
}

/**
 * 5.10: pidfds throughout (CLONE_PIDFD 5.2, waitid(P_PIDFD) 5.4) and close_range (5.9). Newer
 * kernels add what is used when present: cgroup.kill (5.14; else a kill loop), memory.peak (5.19;
 * else peak 0). CLONE_INTO_CGROUP (5.7) is within the minimum.
 */
export const MIN_KERNEL: readonly [number, number] = [5, 10];

const CONTROLLERS = ["memory", "pids", "cpu"];

function kernelTooOld(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false; // an unknown format is not evidence of an old kernel
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < MIN_KERNEL[0] || (major === MIN_KERNEL[0] && minor < MIN_KERNEL[1]);
}

/**
 * Every missing prerequisite, in the order a reader should fix them; empty when none is missing.
 * `cgroupV2Root` is the directory our parent group is made in on a v2 host (undefined on v1, where
 * layout detection already names missing controllers).
 */
export function missingPrerequisites(host: HostView, cgroupV2Root?: string): MissingPrerequisite[] {
  const missing: MissingPrerequisite[] = [];
  const trimmed = (path: string) => host.read(path)?.trim();
  if (kernelTooOld(host.kernelRelease))
    missing.push({
      name: "kernel",
      problem: `kernel ${host.kernelRelease} is older than ${MIN_KERNEL.join(".")} (pidfds, close_range)`,
      fix: `boot a Linux ${MIN_KERNEL.join(".")} or newer kernel`,
    });
  if (trimmed("/proc/sys/user/max_user_namespaces") === "0")
    missing.push({
      name: "user-namespaces",
      problem: "user namespaces are disabled (sysctl user.max_user_namespaces = 0)",
      fix: "sysctl -w user.max_user_namespaces=15000 (and set it in /etc/sysctl.d/ to keep it)",
    });
  if (host.uid !== 0 && trimmed("/proc/sys/kernel/unprivileged_userns_clone") === "0")
    missing.push({
      name: "user-namespaces",
      problem: "unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone = 0)",
      fix: "sysctl -w kernel.unprivileged_userns_clone=1",
    });
  // Ubuntu 23.10+: an unprivileged process gets a user namespace without capabilities in it
  // unless an AppArmor profile allows "userns". Root (CAP_SYS_ADMIN) is not restricted.
  if (host.uid !== 0 && trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    missing.push({
      name: "apparmor-userns",
      problem:
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)",
      fix: "give node an AppArmor profile with the 'userns,' rule, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
    });
  const status = host.read("/proc/self/status");
  const actions = trimmed("/proc/sys/kernel/seccomp/actions_avail");
  if (status !== undefined && !/^Seccomp:/m.test(status))
    missing.push({
      name: "seccomp",
      problem: "the kernel has no seccomp (no Seccomp: line in /proc/self/status)",
      fix: "boot a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER",
    });
  else if (actions !== undefined && !["errno", "kill_process"].every((a) => actions.split(/\s+/).includes(a)))
    missing.push({
      name: "seccomp",
      problem: `seccomp lacks the errno and kill_process actions (actions_avail: ${actions})`,
      fix: "boot a Linux 4.14 or newer kernel with CONFIG_SECCOMP_FILTER",
    });
  if (cgroupV2Root !== undefined) {
    const available = (host.read(`${cgroupV2Root}/cgroup.controllers`) ?? "").split(/\s+/);
    const absent = CONTROLLERS.filter((c) => !available.includes(c));
    if (absent.length > 0)
      missing.push({
        name: "cgroup-controllers",
        problem: `cgroup controllers ${absent.join(", ")} are not available in ${cgroupV2Root} (its cgroup.controllers)`,
        fix:
          "enable them in the parent's cgroup.subtree_control (systemd: Delegate=yes on the worker's unit; " +
          "docker/podman: a cgroup v2 host with --cgroupns=private), or point CELLBLOCK_CGROUP_ROOT at a group that has them",
      });
  }
  return missing;
}

/** One line per missing prerequisite: "name: problem; fix: ...". */
export function describeMissing(missing: MissingPrerequisite[]): string {
  return missing.map((m) => `${m.name}: ${m.problem}; fix: ${m.fix}`).join("\n");
}
