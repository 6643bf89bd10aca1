// Prewarm: a slot creates its next container while idle. Each container still runs exactly one
// job, and releaseStandbys() leaves nothing behind. (Other files run with prewarm off, the
// default, so their per-test leak checks see no standby.)
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureSandbox, releaseStandbys, runSandbox, sandboxHostInfo } from "../../native/index.ts";
import { makeSpec } from "./_fixtures.ts";

const SLOT = 40; // away from other files' slots

function ourGroups(): string[] {
  const parent = sandboxHostInfo().cgroupParents[0] as string;
  return readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-s${SLOT}-`));
}

/** The slot prepares its standby right after handing over a report: wait for it to appear. */
async function standbyGroups(): Promise<string[]> {
  for (let i = 0; i < 200 && ourGroups().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return ourGroups();
}

function tasksIn(group: string): string[] {
  const parent = sandboxHostInfo().cgroupParents[0] as string;
  return readFileSync(`${parent}/${group}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
}

describe("prewarmed containers", () => {
  beforeAll(() => {
    configureSandbox({ prewarm: true });
  });
  afterAll(async () => {
    await releaseStandbys();
    configureSandbox({ prewarm: false });
  });

  it("keeps one idle container per slot between runs, and each run gets a fresh one", async () => {
    const spec = makeSpec(["/bin/sh", "-c", "cat /proc/self/cgroup; echo $$; touch /tmp/mark; ls /tmp"], {
      slot: SLOT,
    });
    const first = await runSandbox(spec);
    expect(first.status).toBe("ok");
    const standby = await standbyGroups();
    expect(standby).toHaveLength(1);
    // Exactly the waiting setup child lives in it: nothing of the finished job.
    expect(tasksIn(standby[0] as string)).toHaveLength(1);
    const second = await runSandbox(spec);
    expect(second.status).toBe("ok");
    // The second run did not see the first one's /tmp/mark before creating its own.
    expect(second.stdout.toString()).toContain("mark");
    expect(second.stdout.toString().match(/mark/g)).toHaveLength(1);
    // It ran in the group prepared earlier, which is gone now; a new standby waits.
    const after = await standbyGroups();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(standby[0]);
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
    await runSandbox(makeSpec(["/bin/true"], { slot: SLOT }));
    expect(await standbyGroups()).toHaveLength(1);
    await releaseStandbys();
    expect(ourGroups()).toEqual([]);
  });
});
