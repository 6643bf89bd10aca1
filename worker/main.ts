import pino from "pino";
import { loadConfig } from "../app/config.ts";
import { startWorker } from "./start-worker.ts";

// `npm run worker`: one worker process against REDIS_URL. Start several (on one host with disjoint
// SANDBOX_SLOT_OFFSET values) to scale out.

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, name: "cellblock-worker" });
if (!config.REDIS_URL) {
  logger.fatal(
    "REDIS_URL is not set; `npm run worker` joins an existing Redis (use `npm start` for an all-in-one)",
  );
  process.exit(1);
}

try {
  const worker = await startWorker(config, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    worker.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
} catch (error) {
  logger.fatal({ err: error }, "worker failed to start");
  process.exit(1);
}
