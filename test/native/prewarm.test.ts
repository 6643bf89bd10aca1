// Prewarm: a slot creates its next container while idle. Each container still runs exactly one
// job, and releaseStandbys() leaves nothing behind. (Other files run with prewarm off, the
// default, so their per-test leak checks see no standby.)
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  configureSandbox,
  releaseStandbys,
  runSandbox,
  type SandboxReport,
  sandboxHostInfo,
} from "../../native/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { makeSpec } from "./_fixtures.ts";
import { slotGroups } from "./_prewarm.ts";

const SLOT = 40; // away from other files' slots

const ourGroups = () => slotGroups(SLOT);

function tasksIn(group: string): string[] {
  const parent = sandboxHostInfo().cgroupParents[0] as string;
  try {
    return readFileSync(`${parent}/${group}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
  } catch {
    return []; // removed meanwhile
  }
}

/**
 * Runs a job that sleeps 300 ms at its end, and names the group it ran in: while it runs, the
 * one group of the slot with more than one task (its init and the job; a standby holds one).
 */
async function runNamingItsGroup(argv: string[]): Promise<{ report: SandboxReport; spent: string }> {
  const pending = runSandbox(makeSpec(["/bin/sh", "-c", `${argv.join(" ")}; sleep 0.3`], { slot: SLOT }));
  const spent = await eventually(() => ourGroups().find((group) => tasksIn(group).length > 1), {
    timeoutMs: 10_000,
    intervalMs: 10,
    what: "the running job's group",
  });
  return { report: await pending, spent: spent as string };
}

/**
 * The slot prepares its standby while a run goes on or right after, and removes the spent
 * container's group after handing over the report (teardown is off the critical path): wait
 * until the spent group is gone and the slot's idle containers are there, made: one with its
 * setup child, or in a stream of runs with one mount request two — the next made ahead (its init
 * and parked payload) and the first stage of the one after it ("the spare", its setup child).
 */
function standbyGroups(spent: string, tasks: number[] = [1]): Promise<string[]> {
  return eventually(ourGroups, {
    timeoutMs: 10_000,
    intervalMs: 10,
    until: (groups) =>
      !groups.includes(spent) &&
      groups
        .map((group) => tasksIn(group).length)
        .sort()
        .join() === tasks.join(),
    what: `the spent group ${spent} removed and standbys with ${tasks.join(" and ")} task(s) made`,
  });
}

describe("prewarmed containers", () => {
  beforeAll(() => {
    configureSandbox({ prewarm: true });
  });
  afterAll(async () => {
    await releaseStandbys();
    configureSandbox({ prewarm: false });
  });

  it("keeps one idle container per slot between runs (two in a stream), and each run gets a fresh one", async () => {
    const command = ["echo $$; touch /tmp/mark; ls /tmp"];
    const first = await runNamingItsGroup(command);
    expect(first.report.status).toBe("ok");
    const standby = await standbyGroups(first.spent);
    expect(standby).toHaveLength(1);
    // Exactly the waiting setup child lives in it: nothing of the finished job.
    expect(tasksIn(standby[0] as string)).toHaveLength(1);
    const second = await runNamingItsGroup(command);
    expect(second.report.status).toBe("ok");
    // The second run did not see the first one's /tmp/mark before creating its own.
    expect(second.report.stdout.toString()).toContain("mark");
    expect(second.report.stdout.toString().match(/mark/g)).toHaveLength(1);
    // It ran in the group prepared earlier, which is gone now. Its mount request repeated the
    // first's, so the slot predicts a stream: the next container waits made ahead and the one
    // after it has its first stage made (its only task the setup child), and no more than that.
    expect(second.spent).toBe(standby[0]);
    const after = await standbyGroups(second.spent, [1, 2]);
    expect(after).toHaveLength(2);
    expect(after).not.toContain(standby[0]);
    const third = await runNamingItsGroup(command);
    expect(third.report.status).toBe("ok");
    expect(after).toContain(third.spent);
    expect(await standbyGroups(third.spent, [1, 2])).toHaveLength(2);
  });

  it("accounts limits set at the run, not at preparation: a memory bomb in a prewarmed container is memory_limit", async () => {
    await runSandbox(makeSpec(["/bin/true"], { slot: SLOT }));
    const report = await runSandbox(
      makeSpec(["/usr/bin/python3", "-c", "x = bytearray(256 << 20)"], {
        slot: SLOT,
        limits: { memoryBytes: 64 << 20 },
      }),
    );
    expect(report.status).toBe("memory_limit");
    expect(report.oomKilled).toBe(true);
  });

  it("releaseStandbys removes the idle containers and their cgroups", async () => {
    const { spent } = await runNamingItsGroup(["true"]);
    expect(await standbyGroups(spent, [1, 2])).toHaveLength(2); // a stream: made ahead and the spare
    await releaseStandbys();
    expect(ourGroups()).toEqual([]);
  });
});
