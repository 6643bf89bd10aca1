import { slotIdBase } from "../contract/sandbox-identity.ts";
import { slotJobHostId } from "./job-host-id.ts";
import { copyJobDir } from "./run-dir.ts";
import type { StepContext } from "./step-context.ts";
import { removeWorkDirLater } from "./work-dir.ts";

// The slots a job's tests run on: its own, and the free ones it borrows for one test at a time
// (slot-pool.ts says when a borrow is granted). Every test still runs in a fresh container of the
// slot it runs on, with that slot's host ids and cgroup. The job's dirs (its compiled work dir, its
// checker's or interactor's) are mode 0700 and owned by the job's own slot's ids, so a borrowed
// slot's containers could not read them: on a borrowed slot a step binds a copy owned by that
// slot's ids (run-dir.ts copyJobDir), made the first time the job runs a test there and removed
// with the job. Runs bind these dirs read-only, so a copy stays equal to its original; and no
// container sees any host path but its own binds, so a copy kept after its slot went back to the
// pool is visible to no other job.

export interface TestSlot {
  /** The job's step context with this slot's number. */
  ctx: StepContext;
  /** The host dir a step on this slot binds for the job's dir `dir`. */
  dir(dir: string): Promise<string>;
}

/** Where borrowed slots come from (SlotPool). */
export interface SlotLender {
  tryBorrow(): number | null;
  release(slot: number): void;
}

export class TestSlots {
  readonly own: TestSlot;
  private readonly copies = new Map<string, Promise<string>>();

  /** `lender` null: the job runs its tests on its own slot only. */
  constructor(
    private readonly ctx: StepContext,
    private readonly lender: SlotLender | null,
  ) {
    this.own = { ctx, dir: (dir) => Promise.resolve(dir) };
  }

  /** A free slot for one test, or null; the caller releases it after the test. */
  borrow(): (TestSlot & { release(): void }) | null {
    const slot = this.lender?.tryBorrow() ?? null;
    if (slot === null) return null;
    const lender = this.lender as SlotLender;
    return {
      ctx: { ...this.ctx, slot },
      dir: (dir) => this.copyFor(slot, dir),
      release: () => lender.release(slot),
    };
  }

  /** Removes the copies (off the critical path), once every copy in progress has ended. */
  dispose(): void {
    for (const copy of this.copies.values()) {
      copy.then(
        (dir) => removeWorkDirLater(dir, this.ctx.log),
        () => {}, // a failed copy removed itself (newWorkDir) and failed its test
      );
    }
    this.copies.clear();
  }

  private copyFor(slot: number, dir: string): Promise<string> {
    const key = `${slot}:${dir}`;
    let copy = this.copies.get(key);
    if (!copy) {
      const { uidBase, settings } = this.ctx;
      copy = copyJobDir(
        settings.worker.WORK_ROOT,
        slotIdBase(uidBase, slot),
        dir,
        slotJobHostId(uidBase, slot),
      );
      this.copies.set(key, copy);
    }
    return copy;
  }
}
