import { Redis } from "ioredis";
import { createKey } from "../../../api/api-key-store.ts";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startTestService, type TestService } from "../../helpers/service.ts";
import type { FuzzContext } from "./route-table.ts";

// The service the fuzzer talks to: a real redis-server and the real API, no worker (submissions
// stay queued, so no sandbox runs and the cases stay fast). API keys are on, so requests pass
// authentication when they carry the key and the unauthenticated paths are fuzzed too; no rate
// limit, so the cases reach validation. One real job, one real batch, one cancelled job (its event
// stream ends) and one Judge0 submission give the id routes something to find; a second key whose
// queued-jobs quota is used up serves the routes that would wait for a worker.

export const FUZZ_API_KEY = "fuzz-key-0123456789abcdef";
const API_KEY = FUZZ_API_KEY;

export interface FuzzTarget {
  service: TestService;
  context: FuzzContext;
  close(): Promise<void>;
}

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const redis: TestRedis = await startTestRedis();
  let service: TestService;
  try {
    service = await startTestService({
      redisUrl: redis.url,
      worker: false,
      env: {
        API_KEYS: API_KEY,
        ADMIN_API_KEY: "fuzz-admin-key-0123456789",
        KEY_DEFAULT_REQUESTS_PER_MINUTE: "0",
        KEY_DEFAULT_MAX_QUEUED_JOBS: "0",
        RUN_WAIT_DEFAULT_MS: "50",
        // Requests that never complete (a Content-Length longer than the body) end in 408 quickly.
        HTTP_HEADERS_TIMEOUT_MS: "500",
        HTTP_REQUEST_TIMEOUT_MS: "1000",
      },
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const auth = { authorization: `Bearer ${API_KEY}` };
  const job = await (await service.post("/jobs", { language: "python", source: "print(1)" }, auth)).json();
  const batch = await (
    await service.post("/batches", { jobs: [{ language: "python", source: "print(2)" }] }, auth)
  ).json();
  const cancelled = await (
    await service.post("/jobs", { language: "python", source: "print(3)" }, auth)
  ).json();
  await fetch(`${service.api.url}/jobs/${cancelled.id}`, { method: "DELETE", headers: auth });
  const submission = await (
    await service.post("/judge0/submissions", { source_code: "print(4)", language_id: 71 }, auth)
  ).json();
  const redisClient = new Redis(redis.url);
  const busy = await createKey(redisClient, service.config.queue.QUEUE_PREFIX, "fuzz-busy", {
    requestsPerMinute: 0,
    maxRunningJobs: 0,
    maxQueuedJobs: 1,
    ceilings: {},
  }).finally(() => redisClient.disconnect());
  const busyAuth = { authorization: `Bearer ${busy.key}` };
  const filler = await service.post("/jobs", { language: "python", source: "print(5)" }, busyAuth);
  const ids = { job, batch, cancelled, submission, filler: filler.status };
  if (
    typeof job.id !== "string" ||
    typeof batch.id !== "string" ||
    typeof cancelled.id !== "string" ||
    typeof submission.token !== "string" ||
    filler.status !== 202
  ) {
    throw new Error(`fuzz set-up: could not create the jobs it needs: ${JSON.stringify(ids)}`);
  }
  return {
    service,
    context: {
      jobId: job.id,
      batchId: batch.id,
      finishedJobId: cancelled.id,
      judge0Token: submission.token,
      authHeaders: [["Authorization", `Bearer ${API_KEY}`]],
      busyAuthHeaders: [["Authorization", `Bearer ${busy.key}`]],
    },
    async close() {
      await service.close();
      await redis.stop();
    },
  };
}
