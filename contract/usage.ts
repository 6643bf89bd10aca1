import { z } from "zod";

// What a sandboxed step used and why the supervisor stopped it: shared by the job's own steps and
// by the judge's (checker) runs reported inside them.

/** Why the supervisor stopped a step, when it did (mirrors the sandbox's StopReason). */
export const StopReasonSchema = z
  .enum(["cpu_time", "wall_time", "memory", "output", "file_size", "cancelled"])
  .nullable();

export const UsageSchema = z.object({
  /** User + system CPU time of every process of the step. */
  cpuTimeMs: z.number(),
  wallTimeMs: z.number(),
  /** Peak memory of the step's cgroup (RAM, tmpfs pages included). */
  peakMemoryBytes: z.number(),
});
