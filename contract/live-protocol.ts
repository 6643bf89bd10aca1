import { z } from "zod";
import { JobInputSchema } from "./job-events.ts";

// Our WebSocket protocol at /ws (README "Live runs"). Text frames of JSON, one message each.
// Client → server: {type:"init", request} once (the body POST /run takes, without tests or
// callbackUrl), then any of {type:"stdin", data}, {type:"eof"}, {type:"signal", signal}.
// Server → client: {type:"event", id, event} for every job event (contract/job-events.ts), and
// {type:"error", error:{code, message}} just before a close that is not the normal end.

export const LiveClientMessageSchema = z.union([
  z.object({ type: z.literal("init"), request: z.unknown() }).strict(),
  JobInputSchema,
]);
export type LiveClientMessage = z.infer<typeof LiveClientMessageSchema>;

/** Close codes of /ws (1000: the job finished; 1009: a message above LIVE_MESSAGE_BYTES). */
export const LIVE_CLOSE = {
  finished: 1000,
  /** A second init. */
  alreadyInitialized: 4000,
  /** No init within LIVE_INIT_TIMEOUT_MS. */
  initTimeout: 4001,
  /** A message that is not JSON of this protocol, or a request that does not validate. */
  invalid: 4002,
  /** stdin, eof or signal before init. */
  notInitialized: 4003,
  /** No message either way for LIVE_IDLE_TIMEOUT_MS. */
  idleTimeout: 4008,
  /** The key has LIVE_STREAMS_PER_KEY streams open already. */
  tooManyStreams: 4029,
  /** The API could not serve the job (Redis unreachable, shutting down). */
  unavailable: 4500,
};
