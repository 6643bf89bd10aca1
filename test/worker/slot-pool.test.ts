// The fairness rule of slot borrowing (worker/slot-pool.ts): a job waiting for its own slot is
// served before any borrow, and a borrow is refused while it waits.
import { describe, expect, it } from "vitest";
import { SlotPool } from "../../worker/slot-pool.ts";

describe("slot pool", () => {
  it("lends a free slot for a test only while no job waits for one", async () => {
    const pool = new SlotPool(2);
    const own = await pool.acquire();
    const lent = pool.tryBorrow();
    expect(lent).not.toBeNull();
    expect(lent).not.toBe(own);
    expect(pool.tryBorrow()).toBeNull();

    const waiting = pool.acquire();
    pool.release(lent as number);
    // The returned slot goes to the waiting job, not to the next borrow.
    expect(await waiting).toBe(lent);
    expect(pool.tryBorrow()).toBeNull();
  });

  it("refuses borrows while a job waits, even when a slot comes back to a waiter", async () => {
    const pool = new SlotPool(1);
    const own = await pool.acquire();
    const first = pool.acquire();
    const second = pool.acquire();
    pool.release(own);
    expect(await first).toBe(own);
    expect(pool.tryBorrow()).toBeNull();
    pool.release(own);
    expect(await second).toBe(own);
    pool.release(own);
    expect(pool.tryBorrow()).toBe(own);
  });
});
