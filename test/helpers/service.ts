import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { type StartedApi, startApi } from "../../api/start-api.ts";
import { type Config, loadConfig } from "../../config/load-config.ts";
import type { JobRequestInput } from "../../contract/job-request.ts";
import { type StartedWorker, startWorker } from "../../worker/start-worker.ts";
import { eventually } from "./eventually.ts";

// The service in-process for a test file: the real API on port 0 and, when asked, a real worker
// (real sandbox, real queue) against the test's redis-server. Each call gets its own QUEUE_PREFIX
// and work root so files never see each other's jobs.

export interface TestService {
  config: Config;
  api: StartedApi;
  worker: StartedWorker | null;
  /** Env for a worker child process joining this service. */
  env: NodeJS.ProcessEnv;
  post(pathname: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(pathname: string, headers?: Record<string, string>): Promise<Response>;
  del(pathname: string, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  redisUrl: string;
  worker: boolean;
  env?: Record<string, string>;
}

export async function startTestService(options: TestServiceOptions): Promise<TestService> {
  const workRoot = await mkdtemp(path.join(os.tmpdir(), "cellblock-test-work-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: options.redisUrl,
    HOST: "127.0.0.1",
    PORT: "0",
    QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
    WORK_ROOT: workRoot,
    LOG_LEVEL: "silent",
    HEARTBEAT_INTERVAL_MS: "500",
    API_KEYS: "",
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = pino({ level: config.logging.LOG_LEVEL });
  let worker: StartedWorker | null = null;
  let api: StartedApi;
  try {
    worker = options.worker ? await startWorker(config, logger) : null;
    api = await startApi(config, logger);
  } catch (error) {
    await worker?.close();
    await rm(workRoot, { recursive: true, force: true });
    throw error;
  }
  const call = (method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${pathname}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    config,
    api,
    worker,
    env,
    post: (pathname, body, headers) => call("POST", pathname, body, headers),
    get: (pathname, headers) => call("GET", pathname, undefined, headers),
    del: (pathname, headers) => call("DELETE", pathname, undefined, headers),
    async close() {
      await api.close();
      await worker?.close();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
}

/** POST /run and return the parsed body; fails the test on anything but 200. */
export async function runJob(service: TestService, request: JobRequestInput, query = "") {
  const response = await service.post(`/run${query}`, request);
  const body = await response.json();
  if (response.status !== 200) throw new Error(`POST /run: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Polls GET /jobs/:id until the status is one of `statuses` (tests only; the API itself never polls). */
export async function waitForStatus(
  service: TestService,
  id: string,
  statuses: string[],
  timeoutMs = 60_000,
) {
  return eventually(async () => (await service.get(`/jobs/${id}`)).json(), {
    until: (body) => statuses.includes(body.status),
    timeoutMs,
    what: `job ${id} ${statuses.join("|")}`,
  });
}
