import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService, waitForStatus } from "../helpers/service.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";

// A worker SIGKILLed mid-job (crash, OOM kill, host reboot) must not lose the job: its lock
// expires, the next worker's stalled check puts the job back in the queue, and it completes.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED worker crash test: ${unavailable}`);

let redis: TestRedis;
let service: TestService;
const workers: WorkerProcess[] = [];

describe.skipIf(unavailable !== null)(`stalled-job recovery ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    // Short lock and stall check so recovery takes seconds, not the production 30 s.
    service = await startTestService({
      redisUrl: redis.url,
      worker: false,
      env: { LOCK_DURATION_MS: "2000", STALLED_INTERVAL_MS: "1000", WORKER_SLOTS: "1" },
    });
  });

  afterAll(async () => {
    for (const worker of workers) await worker.kill("SIGKILL");
    await service?.close();
    await redis?.stop();
  });

  it("a job whose worker is SIGKILLed mid-run completes on a worker started afterwards", async () => {
    const first = await startWorkerProcess({ ...service.env, SANDBOX_SLOT_OFFSET: "0" });
    workers.push(first);
    const job = { language: "bash", source: "sleep 2; echo survived", limits: { wallTimeMs: 20_000 } };
    const { id } = await (await service.post("/jobs", job)).json();
    await waitForStatus(service, id, ["running"]);

    await first.kill("SIGKILL");
    // A different slot offset: the dead worker's slot may still be tearing down on this host.
    const second = await startWorkerProcess({ ...service.env, SANDBOX_SLOT_OFFSET: "1" });
    workers.push(second);

    const view = await waitForStatus(service, id, ["completed", "failed"], 90_000);
    expect(view.status).toBe("completed");
    expect(view.result.verdict).toBe("ok");
    expect(view.result.runs[0].stdout).toBe("survived\n");
    await second.kill("SIGTERM");
  }, 120_000);
});
