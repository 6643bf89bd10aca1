import { z } from "zod";

// Subtasks (IOI style): tests grouped, each group worth points. A group earns its points times the
// lowest score among its tests — all of them when every test passes, none when one fails, the
// minimum fraction when a checker gave partial points. With stopAtFirstFailure, once one of its
// tests scores 0 the group's remaining tests are skipped (verdict `skipped`) unless another group
// still needs them. The job's result carries the total.

export const TestGroupSchema = z
  .object({
    name: z.string().min(1).max(64).optional(),
    points: z.number().min(0).max(1_000_000),
    /** Indices into the job's tests (from 0); a test may belong to several groups. */
    tests: z.array(z.number().int().min(0)).min(1).max(1000),
    /** Skip the group's remaining tests after its first failed one (saves time; documented). */
    stopAtFirstFailure: z.boolean().default(false),
  })
  .strict()
  .superRefine((group, ctx) => {
    if (new Set(group.tests).size !== group.tests.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["tests"], message: "lists a test twice" });
    }
  });

export const GroupScoreSchema = z.object({
  name: z.string().optional(),
  points: z.number(),
  maxPoints: z.number(),
  /** accepted when every test passed, else the first failing test's verdict. */
  verdict: z.string(),
  tests: z.array(z.number().int()),
});

export const JobScoreSchema = z.object({
  points: z.number(),
  maxPoints: z.number(),
  groups: z.array(GroupScoreSchema),
});

export type TestGroup = z.infer<typeof TestGroupSchema>;
export type GroupScore = z.infer<typeof GroupScoreSchema>;
export type JobScore = z.infer<typeof JobScoreSchema>;
