import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

// What issue 10 promises a client, end to end through HTTP, the queue, a worker and the sandbox:
// a call the sandbox does not allow is named in the step, and ordinary code that sets the clock or
// uses SQLite on a file works as it does for an unprivileged user.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED sandbox verdict tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

describe.skipIf(unavailable !== null)(
  `sandbox decisions in job results ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "1" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("a program killed for a syscall gets runtime_error, SIGSYS and the call's name, with its flushed output", async () => {
      const source = `import ctypes, sys
print("before", flush=True)
ctypes.CDLL(None).mount(b"none", b"/tmp", b"tmpfs", 0, None)`;
      const result = await runJob(service, { language: "python", source });
      expect(result.verdict, JSON.stringify(result)).toBe("runtime_error");
      const step = result.runs[0];
      expect(step.signal).toBe("SIGSYS");
      expect(step.blockedSyscall).toBe("mount");
      expect(step.error).toBe("killed by the sandbox: syscall `mount` is not allowed");
      expect(step.stdout).toBe("before\n");
    });

    it("time.clock_settime fails with EPERM and sqlite3 works on a file database in /tmp (a run step's /box is read-only)", async () => {
      const source = `import sqlite3, time
try:
    time.clock_settime(time.CLOCK_REALTIME, time.time())
except PermissionError:
    print("EPERM")
c = sqlite3.connect("/tmp/notes.db")
c.execute("create table t (a)"); c.execute("insert into t values (42)"); c.commit()
print(c.execute("select a from t").fetchone()[0])`;
      const result = await runJob(service, { language: "python", source });
      expect(result.verdict, JSON.stringify(result)).toBe("ok");
      expect(result.runs[0].stdout).toBe("EPERM\n42\n");
      expect(result.runs[0].blockedSyscall).toBeUndefined();
    });
  },
);
