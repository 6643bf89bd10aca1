// Regression: a job's memory limit must never reach the worker. The container's setup task shares
// the worker's memory until it execs cellblock-init; with a limit of a few KiB armed at the start,
// the memcg OOM killer picked that task and, with it, every process sharing its mm — the test
// runner (or worker) died with SIGKILL. The limit is now armed only once PID 1 has its own mm.
import { describe, expect, it } from "vitest";
import { run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

describe("a memory limit smaller than a container needs", () => {
  installLeakChecks();

  it.each([4096, 65536, 262144])(
    "a %i-byte limit ends the run as memory_limit and this process survives",
    async (memoryBytes) => {
      const report = await run(["/bin/true"], { limits: { memoryBytes } });
      expect(report.status).toBe("memory_limit");
      expect(report.stopReason).toBe("memory");
      expect(process.memoryUsage().rss).toBeGreaterThan(0); // still here to say so
    },
  );

  it("a limit just large enough still runs a small program normally", async () => {
    const report = await run(["/bin/true"], { limits: { memoryBytes: 8 << 20 } });
    expect(report.status).toBe("ok");
  });
});
