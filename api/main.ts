import pino from "pino";
import { loadConfig } from "../app/config.ts";
import { startApi } from "./start-api.ts";

// `npm run api`: the HTTP API alone, against REDIS_URL; workers run elsewhere (`npm run worker`).

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, name: "cellblock-api" });
if (!config.REDIS_URL) {
  logger.fatal(
    "REDIS_URL is not set; `npm run api` joins an existing Redis (use `npm start` for an all-in-one)",
  );
  process.exit(1);
}

try {
  const api = await startApi(config, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down");
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
} catch (error) {
  logger.fatal({ err: error }, "API failed to start");
  process.exit(1);
}
