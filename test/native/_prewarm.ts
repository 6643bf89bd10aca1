// Shared by the files that run slots with prewarm on (prewarm, made-ahead, hand-over): the slot's
// cgroups, and the set-up and the leak check around such a file.
import { readdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { configureSandbox, releaseStandbys, sandboxHostInfo } from "../../native/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { ownedTempDirs } from "./_fixtures.ts";

/** The groups of this process's containers on slot (standbys included). */
export function slotGroups(slot: number): string[] {
  const parent = sandboxHostInfo().cgroupParents[0] as string;
  return readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-s${slot}-`));
}

/**
 * Prewarm on for the file (then prime()); after it, the file's temp dirs removed, the standbys
 * released, prewarm off, and nothing of any container left on slot: every made-ahead one ran once
 * or was discarded.
 */
export function prewarmForFile(slot: number, prime: () => Promise<void>): void {
  beforeAll(async () => {
    configureSandbox({ prewarm: true });
    await prime();
  });
  afterAll(async () => {
    for (const dir of ownedTempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    await releaseStandbys();
    configureSandbox({ prewarm: false });
    await eventually(() => slotGroups(slot), {
      timeoutMs: 10_000,
      intervalMs: 20,
      until: (g) => g.length === 0,
      what: "no groups",
    });
  });
}
