import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startTestService, type TestService } from "../../helpers/service.ts";
import type { FuzzContext } from "./route-table.ts";

// The service the fuzzer talks to: a real redis-server and the real API, no worker (submissions
// stay queued, so no sandbox runs and the cases stay fast). API keys are on, so requests pass
// authentication when they carry the key and the unauthenticated paths are fuzzed too; no rate
// limit, so the cases reach validation. One real job and one real batch give the id routes
// something to find.

const API_KEY = "fuzz-key-0123456789abcdef";

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
  if (typeof job.id !== "string" || typeof batch.id !== "string") {
    throw new Error(`fuzz set-up: could not create a job and a batch: ${JSON.stringify({ job, batch })}`);
  }
  return {
    service,
    context: { jobId: job.id, batchId: batch.id, authHeaders: [["Authorization", `Bearer ${API_KEY}`]] },
    async close() {
      await service.close();
      await redis.stop();
    },
  };
}
