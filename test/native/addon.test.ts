// The facts native/src and native/*.ts both use are defined once in C (X-macro lists) and
// exported by the addon; the TS unions must equal them, so a C change without the TS change
// fails here, naming the list.
import { describe, expect, it } from "vitest";
import { loadAddon, RLIMIT_RESOURCES, tableMismatches } from "../../native/addon.ts";
import { SANDBOX_PHASES, SANDBOX_STATUSES, STOP_REASONS } from "../../native/types.ts";

describe("addon tables", () => {
  const addon = loadAddon();

  it("the addon's status names are exactly SandboxStatus", () => {
    expect([...addon.statusNames]).toEqual([...SANDBOX_STATUSES]);
  });

  it("the addon's stop names are 'none' followed by exactly StopReason's", () => {
    expect([...addon.stopNames]).toEqual(["none", ...STOP_REASONS]);
  });

  it("the addon's phase names are exactly SandboxPhase, in the order they run", () => {
    expect([...addon.phaseNames]).toEqual([...SANDBOX_PHASES]);
  });

  it("the addon maps exactly the rlimit resources the TS front may name", () => {
    expect([...addon.rlimitNames]).toEqual([...RLIMIT_RESOURCES]);
  });

  it("every setup step has its own name, and the read-only root is named apart from entering it", () => {
    expect(addon.stepNames.length).toBeGreaterThan(0);
    for (const name of addon.stepNames) expect(name.trim()).not.toBe("");
    expect(new Set(addon.stepNames).size).toBe(addon.stepNames.length);
    expect(addon.stepNames).toContain("exec cellblock-init");
    const enter = addon.stepNames.indexOf("chdir into the new root");
    expect(enter).toBeGreaterThanOrEqual(0);
    expect(addon.stepNames[enter + 1]).toBe("make the root read-only");
  });

  it("an addon whose tables differ from the TS lists is refused, naming each list that differs", () => {
    expect(tableMismatches(addon)).toEqual([]);
    const reordered = [...addon.statusNames].reverse();
    const shorter = addon.stopNames.slice(0, -1);
    const found = tableMismatches({ ...pickTables(addon), statusNames: reordered, stopNames: shorter });
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^statusNames /);
    expect(found[1]).toMatch(/^stopNames /);
  });
});

function pickTables(a: ReturnType<typeof loadAddon>) {
  const { statusNames, stopNames, phaseNames, rlimitNames } = a;
  return { statusNames, stopNames, phaseNames, rlimitNames };
}
