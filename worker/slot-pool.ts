// Sandbox slots of one worker process: 0..N-1. The slot selects a container's host uid range and
// cgroup, so two containers running at once never share either. BullMQ's concurrency equals the
// slot count, so each job the worker takes has a slot of its own (acquire). A job with several
// tests may also borrow free slots to run tests side by side (fan-out-tests.ts), one test per
// borrow. The fairness rule: a borrow is granted only while no job waits for a slot, and a borrowed
// slot comes back after every test; a job taken while its slot is lent waits for the end of that
// one test, and is served before any new borrow. So one job never keeps another from starting
// longer than one test of its own.

export class SlotPool {
  private readonly free: number[];
  private readonly waiting: ((slot: number) => void)[] = [];

  constructor(private readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  /** Slots running a container now: jobs' own and lent ones (the heartbeat's busy slots). */
  get busy(): number {
    return this.size - this.free.length;
  }

  /** A job's own slot: free at once unless lent to another job's test, then at that test's end. */
  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A free slot to run one more test of a running job on, when no job waits for one; else null. */
  tryBorrow(): number | null {
    if (this.waiting.length > 0) return null;
    return this.free.pop() ?? null;
  }

  /** Gives a job's slot or a borrowed one back; a waiting job gets it first. */
  release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
