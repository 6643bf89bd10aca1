import pino, { type Logger } from "pino";
import { type Config, loadConfig } from "../config/load-config.ts";

// What `npm run api` and `npm run worker` share: configuration from the environment, a logger,
// the REDIS_URL check (each part joins an existing Redis; `npm start` is the all-in-one), and a
// clean close on SIGTERM/SIGINT.

export async function runUntilSignal(
  name: string,
  script: string,
  start: (config: Config, logger: Logger) => Promise<{ close(): Promise<void> }>,
): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logging.LOG_LEVEL, name });
  if (!config.queue.REDIS_URL) {
    logger.fatal(
      `REDIS_URL is not set; \`npm run ${script}\` joins an existing Redis (use \`npm start\` for an all-in-one)`,
    );
    process.exit(1);
  }
  try {
    const part = await start(config, logger);
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      part.close().then(
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
    logger.fatal({ err: error }, `${script} failed to start`);
    process.exit(1);
  }
}
