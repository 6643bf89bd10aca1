// POSIX message queues under the job's RLIMIT_MSGQUEUE (issue 9 item 2): a program may open queues
// with the default attributes, as most do, and the budget still binds.
import { describe, expect, it } from "vitest";
import { MSGQUEUE_BYTES } from "../../native/build-native-spec.ts";
import { describe as describeReport, fixture, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

/** What one queue with the default attributes (10 messages of 8 KiB) takes from the budget, about. */
const DEFAULT_QUEUE_BYTES = 10 * 8192;

describe("POSIX message queues", () => {
  it("a job opens queues with the default attributes and sends through one, until its budget refuses more", async () => {
    const report = await run([fixture("mq-default")]);
    expect(report.status, describeReport(report)).toBe("ok");
    const match = /^roundtrip=ok queues=(\d+)\n$/.exec(report.stdout.toString());
    expect(match, report.stdout.toString()).not.toBeNull();
    const queues = Number(match?.[1]);
    // A client/server pair fits; the limit, not the fixture's cap of 64, ends the loop.
    expect(queues).toBeGreaterThanOrEqual(2);
    expect(queues).toBeLessThanOrEqual(Math.floor(MSGQUEUE_BYTES / DEFAULT_QUEUE_BYTES));
  });
});
