import type { Step } from "../contract/job-result.ts";
import type { TestSlot, TestSlots } from "./test-slots.ts";

// Theory of operation: a job's tests, taken in test order by its own slot and by every slot it
// can borrow (slot-pool.ts: only free slots, only while no job waits, one test per borrow). The
// own slot runs one test after another; whenever a test is taken, the job also borrows what is
// free for the next tests, and a borrowed slot goes back after its test (and is borrowed again at
// once if nothing else wants it). Results land at their test's index, so the job's runs are in test
// order whatever finished first. The first test that throws (a cancel, a shutdown, a sandbox
// set-up failure to retry) stops the taking; the tests still running end (the job's abort signal
// stops them at once on a cancel), every borrowed slot is back, and then the error goes on.

/** Runs test `index` on `slot`; `earlier` holds the results of the tests before it that have ended. */
export type RunTest = (index: number, slot: TestSlot, earlier: Step[]) => Promise<Step>;

export async function runTestsFannedOut(count: number, slots: TestSlots, run: RunTest): Promise<Step[]> {
  const runs: Step[] = new Array(count);
  let next = 0;
  const state: { failure: { error: unknown } | null } = { failure: null };
  const running = new Set<Promise<void>>();
  const take = () => (state.failure !== null || next >= count ? null : next++);
  const runOne = async (index: number, slot: TestSlot) => {
    try {
      runs[index] = await run(index, slot, runs.slice(0, index));
    } catch (error) {
      state.failure ??= { error };
    }
  };
  const borrowForNext = () => {
    while (state.failure === null && next < count) {
      const slot = slots.borrow();
      if (!slot) return;
      const index = next++;
      const done: Promise<void> = runOne(index, slot).finally(() => {
        slot.release();
        running.delete(done);
        borrowForNext();
      });
      running.add(done);
    }
  };
  for (let index = take(); index !== null; index = take()) {
    borrowForNext();
    await runOne(index, slots.own);
  }
  while (running.size > 0) await Promise.all(running);
  if (state.failure) throw state.failure.error;
  return runs;
}
