// The host id layout (contract/sandbox-identity.ts) that work dirs, image verification and the
// sandbox's id maps all compute from.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_UID_BASE,
  IDS_PER_SLOT,
  JOB_UID,
  jobHostId,
  slotIdBase,
  workerUidBase,
} from "../../contract/sandbox-identity.ts";

describe("the sandbox id layout", () => {
  it("uid 1000 inside slot N is host uid base + N·65536 + 1000", () => {
    expect(jobHostId(DEFAULT_UID_BASE, 0)).toBe(201_000);
    expect(jobHostId(DEFAULT_UID_BASE, 2)).toBe(200_000 + 2 * 65_536 + 1000);
    expect(jobHostId(300_000, 1)).toBe(slotIdBase(300_000, 1) + JOB_UID);
  });

  it("slots, and workers whose uid bases are their slot counts apart, never share a host id", () => {
    const slots = 4;
    const ranges = [0, 1].flatMap((worker) =>
      Array.from({ length: slots }, (_, slot) =>
        slotIdBase(workerUidBase(DEFAULT_UID_BASE, worker * slots), slot),
      ),
    );
    expect(new Set(ranges).size).toBe(ranges.length);
    const sorted = [...ranges].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++)
      expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(IDS_PER_SLOT);
  });
});
