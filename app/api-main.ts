import { startApi } from "../api/start-api.ts";
import { runUntilSignal } from "./run-until-signal.ts";

// `npm run api`: the HTTP API alone, against REDIS_URL; workers run elsewhere (`npm run worker`).

await runUntilSignal("cellblock-api", "api", startApi);
