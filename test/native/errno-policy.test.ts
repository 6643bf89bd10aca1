// The errno policy (seccomp-policy.c, "The errno policy"): calls that ordinary programs make and
// handle failing get the errno an unprivileged user meets outside, instead of a kill; what only
// an attack does is still killed. Regression for issue 10: Python's test_time and shutil.copy2
// died with SIGSYS on clock_settime and fsetxattr.
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, run } from "./_fixtures.ts";
import { kernelAtLeast } from "./_kernel.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

async function errnoProbe(verb: string): Promise<string> {
  const report = await run([fixture("errno-probe"), verb]);
  if (report.signal) return report.signal;
  expect(report.status, describeReport(report)).toBe("ok");
  return report.stdout.toString().trim();
}

const expected: Array<[string, string, string]> = [
  ["clock_settime", "errno=EPERM", "setting the clock, as without CAP_SYS_TIME"],
  ["settimeofday", "errno=EPERM", "setting the clock"],
  ["adjtimex-set", "errno=EPERM", "adjusting the clock"],
  ["clock_adjtime", "errno=EPERM", "adjusting the clock"],
  ["sethostname", "errno=EPERM", "setting the hostname"],
  ["chroot", "errno=EPERM", "chroot, as without CAP_SYS_CHROOT (test_os)"],
  ["fsetxattr", "errno=ENOTSUP", "writing an extended attribute (shutil.copy2)"],
  ["setxattr", "errno=ENOTSUP", "writing an extended attribute by path"],
  ["lsetxattr", "errno=ENOTSUP", "writing a symlink's extended attribute"],
  ["fremovexattr", "errno=ENOTSUP", "removing an extended attribute"],
  // tmpfs keeps user.* attributes since Linux 6.6; before, the kernel itself answers ENOTSUP.
  [
    "fgetxattr",
    kernelAtLeast(6, 6) ? "errno=ENODATA" : "errno=ENOTSUP",
    "reading an extended attribute that is not there",
  ],
  ["sched-fifo", "errno=EPERM", "asking for SCHED_FIFO"],
  ["sched-rr-reset", "errno=EPERM", "asking for SCHED_RR | SCHED_RESET_ON_FORK"],
  ["sched_setattr-deadline", "errno=EPERM", "asking for SCHED_DEADLINE"],
  ["sched-batch", "ok", "choosing SCHED_BATCH, which any user may"],
  ["sched-idle", "ok", "choosing SCHED_IDLE"],
  ["capset-drop", "ok", "dropping capabilities it does not have"],
  // Allowed by the policy; the call itself exists since Linux 6.6.
  ["fchmodat2", kernelAtLeast(6, 6) ? "ok" : "errno=ENOSYS", "fchmodat2 (glibc's lchmod)"],
  ["map_shadow_stack", "errno=ENOSYS", "map_shadow_stack, so glibc runs without one"],
  ["futex_wake", "errno=ENOSYS", "futex2, so callers fall back to futex"],
  ["mseal", "errno=ENOSYS", "mseal, so glibc seals nothing"],
  ["cachestat", "errno=ENOSYS", "cachestat, a page-cache probe"],
  ["landlock", "errno=ENOSYS", "landlock, so a self-sandboxing program goes on without it"],
  ["unknown-470", "errno=ENOSYS", "the first syscall number newer than the policy"],
  ["unknown-511", "errno=ENOSYS", "the last number of the range kept for future syscalls"],
];

describe("the errno policy", () => {
  it.each(expected)("answers %s with %s (%s)", async (verb, outcome) => {
    expect(await errnoProbe(verb)).toBe(outcome);
  });

  it("still kills what only an attack does: unshare(CLONE_NEWUSER)", async () => {
    expect(await errnoProbe("unshare-user")).toBe("SIGSYS");
  });

  it("still kills a number beyond the range kept for future syscalls", async () => {
    expect(await errnoProbe("unknown-600")).toBe("SIGSYS");
  });
});
