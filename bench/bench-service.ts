// The service a bench talks to: its own redis-server, API (in this process) and one worker process
// on 127.0.0.1, with the work dirs in /dev/shm; stop() removes everything it made. env is the
// environment its entry point read, with the bench's settings on top.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { startApi } from "../api/start-api.ts";
import { loadConfig } from "../config/load-config.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { startWorkerProcess } from "../test/helpers/worker-process.ts";

export async function startBenchService(name: string, env: NodeJS.ProcessEnv) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), `cellblock-${name}-`));
  await chmod(tmp, 0o711); // the sandbox users mount the box dirs below it with their own credentials
  const redis = await RedisServer.start({ dir: path.join(tmp, "redis") });
  const fullEnv = {
    ...env,
    REDIS_URL: redis.url,
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    QUEUE_PREFIX: name,
    WORK_ROOT: path.join("/dev/shm", path.basename(tmp)),
  };
  const config = loadConfig(fullEnv);
  const worker = await startWorkerProcess(fullEnv);
  const api = await startApi(config, pino({ level: "silent" }));
  return {
    tmp,
    redis,
    config,
    worker,
    api,
    async stop() {
      await api.close();
      await worker.kill("SIGTERM");
      await redis.stop();
      await rm(tmp, { recursive: true, force: true });
      await rm(config.worker.WORK_ROOT, { recursive: true, force: true });
    },
  };
}
