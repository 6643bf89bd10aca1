import { startWorker } from "../worker/start-worker.ts";
import { runUntilSignal } from "./run-until-signal.ts";

// `npm run worker`: one worker process against REDIS_URL. Start several (on one host with disjoint
// SANDBOX_SLOT_OFFSET values) to scale out.

await runUntilSignal("cellblock-worker", "worker", startWorker);
