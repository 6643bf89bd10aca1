import path from "node:path";
import pino from "pino";
import { startApi } from "../api/start-api.ts";
import { loadConfig } from "../config/load-config.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { startWorker } from "../worker/start-worker.ts";

// `npm start`: API + worker in one process. Without REDIS_URL it runs and supervises its own
// redis-server (AOF under var/redis, 127.0.0.1, a free port): restarted on the same port if it dies,
// stopped when we exit. With REDIS_URL it joins that Redis instead.

const MAX_REDIS_RESTARTS = 5;

const baseConfig = loadConfig();
const logger = pino({ level: baseConfig.logging.LOG_LEVEL, name: "cellblock" });
const projectRoot = path.resolve(import.meta.dirname, "..");

async function main() {
  let redis: RedisServer | null = null;
  let env = process.env;
  if (!baseConfig.queue.REDIS_URL) {
    const dir = path.join(projectRoot, "var", "redis");
    const redisLog = logger.child({ component: "redis-server" });
    redis = await RedisServer.start({ dir, onLog: (line) => redisLog.debug(line) });
    logger.info({ url: redis.url, dir }, "embedded redis-server started");
    let restarts = 0;
    const supervised = redis;
    supervised.onUnexpectedExit = (code, signal) => {
      restarts += 1;
      logger.error({ code, signal, restarts }, "embedded redis-server exited");
      if (restarts > MAX_REDIS_RESTARTS) return shutdown("redis-server keeps exiting", 1);
      supervised.launch().catch((error) => {
        logger.fatal({ err: error }, "restart redis-server failed");
        void shutdown("redis-server restart failed", 1);
      });
    };
    env = { ...process.env, REDIS_URL: redis.url };
  }
  const config = loadConfig(env);

  let closing: Promise<void> | null = null;
  const parts: { close(): Promise<void> }[] = [];
  async function shutdown(reason: string, exitCode: number): Promise<void> {
    closing ??= (async () => {
      logger.info({ reason }, "shutting down");
      // API first (no new jobs), then the worker (finishes running ones), then Redis.
      for (const part of parts.reverse())
        await part.close().catch((error) => logger.error({ err: error }, "close"));
      await redis?.stop();
      process.exit(exitCode);
    })();
    return closing;
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM", 0));
  process.once("SIGINT", () => void shutdown("SIGINT", 0));

  try {
    parts.push(await startWorker(config, logger));
    parts.push(await startApi(config, logger));
  } catch (error) {
    logger.fatal({ err: error }, "start failed");
    await shutdown("start failed", 1);
  }
}

void main();
