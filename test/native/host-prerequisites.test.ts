// Each sandbox prerequisite taken away from a fixture host: the self-check must name it and its fix.
// (test/native/v2-prerequisites.test.ts takes the real ones away in the cgroup v2 VM.)
import { describe, expect, it } from "vitest";
import { describeMissing, type HostView, missingPrerequisites } from "../../native/host-prerequisites.ts";

const GOOD: Record<string, string> = {
  "/proc/sys/user/max_user_namespaces": "63498\n",
  "/proc/self/status": "Name:\tnode\nSeccomp:\t0\nSeccomp_filters:\t0\n",
  "/proc/sys/kernel/seccomp/actions_avail":
    "kill_process kill_thread trap errno user_notif trace log allow\n",
  "/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
};

function host(changes: Record<string, string | undefined> = {}, extra: Partial<HostView> = {}): HostView {
  const files: Record<string, string | undefined> = { ...GOOD, ...changes };
  return { read: (p) => files[p], uid: 0, kernelRelease: "6.1.0-57-amd64", ...extra };
}

const names = (h: HostView, root: string | undefined = "/sys/fs/cgroup") =>
  missingPrerequisites(h, root).map((m) => m.name);

describe("sandbox prerequisites", () => {
  it("finds nothing missing on a root worker with user namespaces, seccomp and the v2 controllers", () => {
    expect(missingPrerequisites(host(), "/sys/fs/cgroup")).toEqual([]);
  });

  it("names user namespaces disabled by sysctl and says which sysctl to set", () => {
    const missing = missingPrerequisites(host({ "/proc/sys/user/max_user_namespaces": "0\n" }), undefined);
    expect(missing.map((m) => m.name)).toEqual(["user-namespaces"]);
    expect(describeMissing(missing)).toContain("sysctl -w user.max_user_namespaces=");
  });

  it("names Ubuntu's AppArmor user-namespace restriction for a non-root worker, not for root", () => {
    const restricted = { "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n" };
    expect(names(host(restricted))).toEqual([]);
    const missing = missingPrerequisites(host(restricted, { uid: 1000 }), "/sys/fs/cgroup");
    expect(missing.map((m) => m.name)).toEqual(["apparmor-userns"]);
    expect(describeMissing(missing)).toContain("userns");
  });

  it("names Debian's unprivileged_userns_clone = 0 for a non-root worker", () => {
    const h = host({ "/proc/sys/kernel/unprivileged_userns_clone": "0\n" }, { uid: 1000 });
    expect(names(h)).toEqual(["user-namespaces"]);
  });

  it("names controllers missing from a delegated cgroup v2 root and how to delegate them", () => {
    const h = host({ "/srv/job/cgroup.controllers": "cpu io\n" });
    const missing = missingPrerequisites(h, "/srv/job");
    expect(missing.map((m) => m.name)).toEqual(["cgroup-controllers"]);
    expect(missing[0]?.problem).toContain("memory, pids");
    expect(missing[0]?.fix).toContain("Delegate=yes");
  });

  it("names a kernel without seccomp, or with a seccomp lacking the actions the filter uses", () => {
    expect(names(host({ "/proc/self/status": "Name:\tnode\n" }))).toEqual(["seccomp"]);
    expect(
      names(host({ "/proc/sys/kernel/seccomp/actions_avail": "kill trap errno trace allow\n" })),
    ).toEqual(["seccomp"]);
  });

  it("names a kernel older than 5.10 and accepts 5.10 itself", () => {
    expect(names(host({}, { kernelRelease: "4.19.0-27-amd64" }))).toEqual(["kernel"]);
    expect(names(host({}, { kernelRelease: "5.10.0-30-amd64" }))).toEqual([]);
  });

  it("lists every missing prerequisite at once, one line each", () => {
    const h = host(
      { "/proc/sys/user/max_user_namespaces": "0", "/sys/fs/cgroup/cgroup.controllers": "cpu" },
      { kernelRelease: "5.3.1" },
    );
    const text = describeMissing(missingPrerequisites(h, "/sys/fs/cgroup"));
    expect(text.split("\n")).toHaveLength(3);
  });
});
