// Subtask scoring (worker/score-groups.ts): points × the lowest test score, skipping after a failure.
import { describe, expect, it } from "vitest";
import type { TestGroup } from "../../contract/groups.ts";
import type { Step } from "../../contract/job-result.ts";
import { scoreGroups, shouldSkip, skippedStep } from "../../worker/score-groups.ts";

const run = (verdict: Step["verdict"], score: number): Step => ({ ...skippedStep(), verdict, score });
const group = (tests: number[], points: number, stopAtFirstFailure = false): TestGroup => ({
  tests,
  points,
  stopAtFirstFailure,
});

describe("score-groups", () => {
  it("a group earns its points only when all its tests pass, and partial tests give their minimum", () => {
    const runs = [run("accepted", 1), run("accepted", 1), run("partial", 0.5), run("partial", 0.25)];
    const score = scoreGroups([group([0, 1], 10), group([1, 2, 3], 40), group([0, 3], 50)], runs);
    expect(score.groups.map((g) => [g.points, g.verdict])).toEqual([
      [10, "accepted"],
      [10, "partial"],
      [12.5, "partial"],
    ]);
    expect(score).toMatchObject({ points: 32.5, maxPoints: 100 });
  });

  it("a failed test zeroes every group it is in", () => {
    const runs = [run("accepted", 1), run("wrong_answer", 0)];
    expect(scoreGroups([group([0], 1), group([0, 1], 2)], runs).points).toBe(1);
  });

  it("a test is skipped only when every group it belongs to stopped at a failure", () => {
    const groups = [group([0, 1, 2], 10, true), group([2, 3], 10, false)];
    const runs = [run("accepted", 1), run("time_limit", 0)];
    expect(shouldSkip(2, groups, runs)).toBe(false);
    expect(shouldSkip(2, [group([0, 1, 2], 10, true)], runs)).toBe(true);
    expect(shouldSkip(4, groups, runs)).toBe(false);
    expect(shouldSkip(1, groups, [run("accepted", 1)])).toBe(false);
  });
});
