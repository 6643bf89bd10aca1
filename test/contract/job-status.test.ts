// The one mapping from a queue state to a job's status (contract/job-status.ts).
import { describe, expect, it } from "vitest";
import type { JobStatus } from "../../contract/job-result.ts";
import {
  CANCELLED_REASON,
  isFinalStatus,
  jobStatusOf,
  type QueueJobState,
} from "../../contract/job-status.ts";

const status = (state: QueueJobState, cancelMarked = false, failedReason?: string) =>
  jobStatusOf({ state, cancelMarked, failedReason });

describe("job state → status", () => {
  it.each([
    ["waiting", "queued"],
    ["prioritized", "queued"],
    ["delayed", "queued"],
    ["waiting-children", "queued"],
    ["active", "running"],
    ["completed", "completed"],
    ["failed", "failed"],
  ] as const)("a %s job is %s", (state, expected) => {
    expect(status(state)).toBe(expected);
  });

  it("a cancel mark wins over queued, running and failed", () => {
    for (const state of ["waiting", "prioritized", "delayed", "active", "failed"] as const) {
      expect(status(state, true)).toBe("cancelled");
    }
  });

  it("a stored result wins over a cancel mark that came too late", () => {
    expect(status("completed", true)).toBe("completed");
  });

  it("a job the worker failed with the cancel reason is cancelled after its mark expired (was failed in batches)", () => {
    expect(status("failed", false, CANCELLED_REASON)).toBe("cancelled");
    expect(status("failed", false, "sandbox setup failed")).toBe("failed");
  });

  it("a gone job has no status (404 for GET /jobs/:id), unless its cancel mark remains", () => {
    expect(status("unknown")).toBeNull();
    expect(status("unknown", true)).toBe("cancelled");
  });

  it("completed, failed and cancelled are final; queued and running are not", () => {
    const all: JobStatus[] = ["queued", "running", "completed", "failed", "cancelled"];
    expect(all.filter(isFinalStatus)).toEqual(["completed", "failed", "cancelled"]);
  });
});
