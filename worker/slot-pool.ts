// Sandbox slots of one worker process: 0..N-1. Each running job holds one; the slot selects the
// job's host uid range and cgroup, so two concurrent jobs never share either. BullMQ's concurrency
// equals the slot count, so acquire() always finds a free slot.

export class SlotPool {
  private readonly free: number[];

  constructor(size: number) {
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  acquire(): number {
    const slot = this.free.pop();
    if (slot === undefined)
      throw new Error("acquire sandbox slot: none free (concurrency above slot count?)");
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}
