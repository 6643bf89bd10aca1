import { describe, expect, it } from "vitest";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { FAULTS, formatChaosRows, runChaos } from "./chaos/chaos-run.ts";

// The bounded chaos run of `npm test`: every fault once, under a small steady load of mixed jobs
// on two worker processes (real sandboxes). `npm run chaos` is the long run.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED chaos test: ${unavailable}`);

describe.skipIf(unavailable !== null)(`chaos under load ${unavailable ? `(${unavailable})` : ""}`, () => {
  it("after each fault every accepted job ends exactly once, in a result or a visible failure, and nothing is left on the host", async () => {
    const { rows, leftoversAfterShutdown } = await runChaos({
      faults: FAULTS,
      jobsPerFault: 8,
      seed: 20261202,
      endDeadlineMs: 60_000,
    });
    const table = formatChaosRows(rows);
    for (const row of rows) {
      expect(row.accepted, table).toBeGreaterThan(0);
      expect(row.lost, table).toBe(0);
      expect(row.duplicated, table).toBe(0);
      expect(row.webhooksMissing, table).toBe(0);
      expect(row.leftovers, table).toEqual([]);
      expect(row.completed + row.failed + row.cancelled, table).toBe(row.accepted);
    }
    expect(leftoversAfterShutdown).toEqual([]);
  }, 180_000);
});
