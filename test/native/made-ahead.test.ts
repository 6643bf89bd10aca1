// Containers made ahead all the way (native/src/slot-runner.h): with prewarm on, a slot whose run
// repeats the mount request of the run before it makes its next container mounted, pivoted and
// read-only, with cellblock-init waiting for its job message. The hostile checks here run through
// such containers (each asserts madeAhead): what a job can do in one is what it can do in a
// container made at its go. A run whose request differs falls back to a container made for it.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { releaseStandbys, runSandbox, type SandboxReport, sandboxHostInfo } from "../../native/index.ts";
import { eventually } from "../helpers/eventually.ts";
import {
  describe as describeReport,
  fixture,
  MiB,
  makeBindDir,
  makeSpec,
  type SpecOverrides,
} from "./_fixtures.ts";
import { prewarmForFile, slotGroups } from "./_prewarm.ts";

const SLOT = 41; // away from other files' slots (prewarm.test.ts has 40)

const ourGroups = () => slotGroups(SLOT);

/** Runs argv on the slot (whose last two runs had the default request, so this one is made ahead). */
async function ahead(argv: string[], overrides: SpecOverrides = {}): Promise<SandboxReport> {
  const report = await runSandbox(makeSpec(argv, { slot: SLOT, ...overrides }));
  expect(report.madeAhead, describeReport(report)).toBe(true);
  return report;
}

/** Two runs with the default request: the slot then predicts it, and its next container is made ahead. */
async function prime(): Promise<void> {
  await runSandbox(makeSpec(["/bin/true"], { slot: SLOT }));
  await runSandbox(makeSpec(["/bin/true"], { slot: SLOT }));
}

const sh = (script: string, ...args: string[]) => ["/bin/sh", "-c", script, "sh", ...args];

describe("containers made ahead all the way", () => {
  prewarmForFile(SLOT, prime);

  it("after two runs with one mount request the next runs made ahead, each container still runs one job", async () => {
    const first = await ahead(sh("ls /tmp; touch /tmp/mark"));
    expect(first.status, describeReport(first)).toBe("ok");
    expect(first.stdout.toString()).toBe("");
    const second = await ahead(sh("ls /tmp; touch /tmp/mark"));
    expect(second.stdout.toString(), "a made-ahead container is fresh").toBe("");
  });

  it("the job message carries argv, environment, cwd, stdin, rlimits and ids exactly", async () => {
    const report = await ahead(sh('pwd; ulimit -n; id -u; id -g; printf "%s|" "$1" "$FOO"; cat', "x y"), {
      env: { PATH: "/usr/bin:/bin", FOO: "a=b c" },
      cwd: "/proc",
      stdin: Buffer.from("in\n"),
      limits: { openFiles: 77 },
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("/proc\n77\n1000\n1000\nx y|a=b c|in\n");
  });

  it("the job runs unprivileged: no capabilities, no_new_privs, seccomp on, root and /usr read-only", async () => {
    const report = await ahead(
      sh(
        "grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; touch /x 2>&1 | head -c 0 || true; " +
          "touch /x && echo root-writable; touch /usr/x && echo usr-writable; echo done",
      ),
    );
    expect(report.status, describeReport(report)).toBe("ok");
    const out = report.stdout.toString();
    expect(out).toContain("CapEff:\t0000000000000000");
    expect(out).toContain("CapBnd:\t0000000000000000");
    expect(out).toContain("NoNewPrivs:\t1");
    expect(out).toContain("Seccomp:\t2");
    expect(out).not.toContain("writable");
    expect(out).toContain("done");
  });

  it("calls off the allowlist stop the job as in any container: mount, unshare, ptrace of init", async () => {
    for (const verb of ["mount", "unshare-user", "ptrace"]) {
      const report = await ahead([fixture("syscall-probe"), verb]);
      const outcome = report.signal ?? report.stdout.toString().trim();
      expect(outcome, `${verb}: ${describeReport(report)}`).not.toBe("ok");
      await prime();
    }
  });

  it("the network namespace has only lo", async () => {
    const report = await ahead(["/bin/cat", "/proc/net/dev"]);
    const interfaces = report.stdout
      .toString()
      .split("\n")
      .slice(2)
      .filter(Boolean)
      .map((line) => line.trim().split(":")[0]);
    expect(interfaces).toEqual(["lo"]);
  });

  it("limits armed at the job's go hold: memory, CPU time and pids", async () => {
    const memory = await ahead([fixture("memhog"), "1024"], { limits: { memoryBytes: 64 * MiB } });
    expect(memory.status, describeReport(memory)).toBe("memory_limit");
    expect(memory.oomKilled).toBe(true);
    await prime();
    const cpu = await ahead([fixture("cpu-burn"), "1"], { limits: { cpuTimeMs: 500, wallTimeMs: 20_000 } });
    expect(cpu.status, describeReport(cpu)).toBe("time_limit");
    expect(cpu.stopReason).toBe("cpu_time");
    expect(cpu.cpuTimeMs).toBeGreaterThanOrEqual(500);
    await prime();
    const pids = await ahead([fixture("fork-bomb")], { limits: { pids: 16, wallTimeMs: 5_000 } });
    expect(pids.pidsLimitHit, describeReport(pids)).toBe(true);
  });

  it("accounting is the program's own: the container's making ahead is not billed", async () => {
    // A container made at its run's go on a fresh slot: its set-up is excluded by the baseline.
    const plain = await runSandbox(makeSpec(["/bin/true"], { slot: SLOT + 1 }));
    expect(plain.madeAhead).toBeUndefined();
    await prime();
    const report = await ahead(["/bin/true"]);
    expect(report.status, describeReport(report)).toBe("ok");
    // The ahead set-up (mounts, the init's exec: ~1.2 ms of CPU on the host, as much as the whole
    // of /bin/true's figure) ran long before and is not in the figures: they are /bin/true's, as
    // the plain run's are (relative, so that it holds in the v2 VM's emulated CPU as well).
    expect(report.cpuTimeMs, describeReport(plain)).toBeLessThan(2 * plain.cpuTimeMs + 2);
    expect(report.peakMemoryBytes).toBeLessThan(16 * MiB);
    expect(report.phasesMs?.clone).toBe(0);
  });

  it("a run with another mount request falls back to a container made for it, then the slot stops predicting", async () => {
    const other = await runSandbox(
      makeSpec(["/bin/df", "-k", "/tmp"], { slot: SLOT, limits: { tmpfsBytes: 8 * MiB } }),
    );
    expect(other.status, describeReport(other)).toBe("ok");
    expect(other.madeAhead).toBeUndefined();
    expect(other.stdout.toString()).toMatch(/\s8192\s/); // its own tmpfs size, not the predicted one
    // The request changed: the next run (the default again) gets an ordinary standby.
    const next = await runSandbox(makeSpec(["/bin/df", "-k", "/tmp"], { slot: SLOT }));
    expect(next.madeAhead).toBeUndefined();
    expect(next.stdout.toString()).toMatch(/\s65536\s/);
    // Repeated, it is predicted again: the run after the repeat is made ahead.
    expect((await runSandbox(makeSpec(["/bin/true"], { slot: SLOT }))).madeAhead).toBeUndefined();
    expect((await ahead(["/bin/df", "-k", "/tmp"])).stdout.toString()).toMatch(/\s65536\s/);
  });

  it("a job's read-only work dir: its third test runs made ahead, sees the dir as it is, and the dir's removal is not blocked", async () => {
    const box = makeBindDir();
    writeFileSync(`${box}/input`, "one\n");
    const spec = (argv: string[]) =>
      makeSpec(argv, { slot: SLOT, cwd: "/box", binds: [{ source: box, target: "/box", writable: false }] });
    await runSandbox(spec(["/bin/true"]));
    await runSandbox(spec(["/bin/true"]));
    // Written after the standby was made ahead: the dir is handed over at go (hand-over.test.ts),
    // or, without hand-over, bound when it was made; a bind shows the dir, live, either way.
    writeFileSync(`${box}/input`, "two\n");
    const third = await runSandbox(
      spec(["/bin/sh", "-c", "cat input; touch x 2>/dev/null && echo writable"]),
    );
    expect(third.madeAhead, describeReport(third)).toBe(true);
    expect(third.stdout.toString()).toBe("two\n");
    // The job is over; its dir goes while a standby made ahead after it waits (with hand-over it
    // holds only the mount point; without, the bind holds the directory, not its removal).
    rmSync(box, { recursive: true });
    expect(existsSync(box)).toBe(false);
    // The next job's request differs: the waiting container is discarded unused, never run.
    const next = await runSandbox(makeSpec(["/bin/ls", "/"], { slot: SLOT }));
    expect(next.status, describeReport(next)).toBe("ok");
    expect(next.madeAhead).toBeUndefined();
    await prime();
  });

  it("a job whose message would be over the init's bound fails closed before any container runs it", async () => {
    const report = await runSandbox(makeSpec(["/bin/echo", "x".repeat(1024 * 1024)], { slot: SLOT }));
    expect(report.status).toBe("setup_error");
    expect(report.setupError?.step).toBe("encode the job message");
    expect(report.stdout.length).toBe(0);
    await prime();
  });

  it("releasing the standbys discards a made-ahead container, the spare and their groups", async () => {
    await prime();
    const parent = sandboxHostInfo().cgroupParents[0] as string;
    const procs = (group: string) => {
      try {
        return readFileSync(`${parent}/${group}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
      } catch {
        return []; // the spent group, removed meanwhile
      }
    };
    // Once the spent group is gone: two groups, the standby's, where its init and its parked
    // payload wait, and the spare's (the first stage of the container after it: its setup child).
    const groups = await eventually(ourGroups, {
      timeoutMs: 10_000,
      intervalMs: 20,
      until: (g) =>
        g.length === 2 &&
        g
          .map((group) => procs(group).length)
          .sort()
          .join() === "1,2",
      what: "the standby made ahead and the spare",
    });
    const waiting = groups.flatMap(procs);
    expect(waiting).toHaveLength(3);
    await releaseStandbys();
    expect(ourGroups()).toEqual([]);
    // Discarded unused, they leave no process behind: neither the init, its parked payload, nor
    // the spare's setup child.
    for (const pid of waiting) expect(existsSync(`/proc/${pid}`), `process ${pid}`).toBe(false);
    await prime();
  });

  it("the payload is made ahead too: the program's own process was forked before its job was sent, and meets the same state", async () => {
    await prime();
    await new Promise((resolve) => setTimeout(resolve, 400)); // the container waits, its payload parked
    // $$ is the program's own process (the payload, exec'd): its start time is its fork's.
    const report = await ahead(
      sh('read -r stat < /proc/$$/stat; echo "$stat"; cat /proc/uptime; getconf CLK_TCK'),
    );
    expect(report.status, describeReport(report)).toBe("ok");
    const [stat = "", uptime = "", ticks = "100"] = report.stdout.toString().split("\n");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
    const ageS = Number(uptime.split(" ")[0]) - Number(fields[22 - 3]) / Number(ticks);
    // Forked while the container waited, not at the job's go: older than the pause above.
    expect(ageS, stat).toBeGreaterThanOrEqual(0.3);
    // The program meets the process state of a payload made at its go: grep is the exec'd payload.
    await prime();
    const status = await ahead([
      "/usr/bin/grep",
      "-E",
      "^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters|SigBlk|SigPnd|ShdPnd):",
      "/proc/self/status",
    ]);
    const text = status.stdout.toString();
    expect(text).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(text).toMatch(/^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(text).toMatch(/^Groups:\s*$/m);
    for (const caps of ["CapEff", "CapPrm", "CapBnd", "CapAmb"])
      expect(text).toContain(`${caps}:\t0000000000000000`);
    expect(text).toContain("NoNewPrivs:\t1");
    expect(text).toContain("Seccomp:\t2");
    expect(text).toContain("Seccomp_filters:\t2");
    for (const mask of ["SigBlk", "SigPnd", "ShdPnd"]) expect(text).toContain(`${mask}:\t0000000000000000`);
    // Its descriptors: stdio only (the park and error pipes, the listener's socket and the init's
    // ends close at its exec).
    await prime();
    const fds = await ahead([fixture("fd-leak")]);
    expect(fds.stdout.toString()).toBe("open: 0 1 2\nwritten to fds above 2: 0\n");
  });
});
