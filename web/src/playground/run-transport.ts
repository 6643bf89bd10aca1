import type { JobEvent, Stage } from "../../../contract/job-events.ts";
import type { JobRequestInput } from "../../../contract/job-request.ts";
import type { JobResult } from "../../../contract/job-result.ts";
import type { KeySubprotocol, LiveSubprotocol } from "../../../contract/live-subprotocol.ts";
import { type ApiClient, ApiError } from "../shared/api-client.ts";
import { readSse } from "./sse-reader.ts";

// How a run travels, in one module: the page only sees a RunHandle — status changes, output
// pieces as the program writes them, and one outcome.
//
// A plain run is POST /run?stream=1, read as Server-Sent Events through fetch (EventSource cannot
// send the API key header). If the stream breaks off mid-run, it resumes from the last event id
// with GET /jobs/:id/events, so nothing is lost or shown twice.
//
// An interactive run is our WebSocket protocol at /ws (contract/live-protocol.ts): init with the
// request, then stdin lines, end of input and SIGINT as the person types them. The API key, which a
// browser's WebSocket cannot put in a header, is offered as a subprotocol
// (contract/live-subprotocol.ts). Both connect to this origin only, as the CSP's connect-src
// 'self' requires (in CSP 3, 'self' also matches ws:/wss: of the same host).
//
// Stop works at any moment, in both: before the job id is known it is remembered and sent as soon
// as the id arrives; after, it is DELETE /jobs/:id and the stream reports the cancellation.

export type RunStatus = "submitting" | "queued" | "running" | "reconnecting" | "stopping";

export type RunOutcome =
  | { kind: "completed"; result: JobResult }
  | { kind: "cancelled"; id: string }
  | { kind: "failed"; id: string; message: string }
  | { kind: "rejected"; error: ApiError };

export interface OutputPiece {
  stage: Stage;
  test: number | null;
  stream: "stdout" | "stderr";
  data: string;
}

export interface RunListener {
  status(status: RunStatus): void;
  /** A step (compile, the run, or one test's run) began. */
  step(stage: Stage, test: number | null): void;
  output(piece: OutputPiece): void;
}

export interface RunHandle {
  readonly outcome: Promise<RunOutcome>;
  stop(): void;
}

export interface InteractiveHandle extends RunHandle {
  /** Text for the program's stdin (sent in pieces that fit a /ws message). */
  write(text: string): void;
  /** Closes the program's stdin (Ctrl+D). */
  endInput(): void;
  /** SIGINT to the program (Ctrl+C). */
  interrupt(): void;
}

/** Times a broken-off event stream is resumed before the run is reported as interrupted. */
const RESUMES = 3;
/** Characters of stdin per /ws message: far below LIVE_MESSAGE_BYTES even when JSON escapes all. */
const STDIN_PIECE_CHARS = 4096;

// The /ws subprotocols (contract/live-subprotocol.ts), typed against the contract's names.
const LIVE_SUBPROTOCOL: LiveSubprotocol = "cellblock.live";
const keySubprotocol = (encodedKey: string): KeySubprotocol => `cellblock.key.${encodedKey}`;

/** Follows a job's events: tracks its id, status and Stop, and turns the last event into an outcome. */
class RunFollower {
  jobId: string | null = null;
  private stopRequested = false;
  private phase: RunStatus = "submitting";

  constructor(
    private readonly api: ApiClient,
    private readonly listener: RunListener,
  ) {}

  /** Records the job's id (from a header or job.queued); a Stop pressed before it is sent now. */
  identify(id: string | null): void {
    if (!id || this.jobId) return;
    this.jobId = id;
    if (this.stopRequested) this.cancel();
  }

  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (this.jobId) this.cancel();
    else this.listener.status("stopping");
  }

  status(status: RunStatus): void {
    if (status !== "reconnecting") this.phase = status;
    this.listener.status(this.stopRequested ? "stopping" : status);
  }

  /** The stream is back: the status it had before it broke off. */
  resumed(): void {
    this.status(this.phase);
  }

  /** The outcome the event ends the run with; null while it runs. */
  take(event: JobEvent): RunOutcome | null {
    switch (event.type) {
      case "job.queued":
        this.identify(event.id);
        this.status("queued");
        return null;
      case "job.started":
        this.status("running");
        return null;
      case "step.started":
        this.listener.step(event.stage, event.test);
        return null;
      case "output":
        this.listener.output(event);
        return null;
      case "step.finished":
        return null;
      case "job.finished":
        return { kind: "completed", result: event.result };
      case "job.failed":
        return event.error.code === "E_JOB_CANCELLED"
          ? { kind: "cancelled", id: this.jobId ?? "" }
          : { kind: "failed", id: this.jobId ?? "", message: event.error.message };
      default: {
        const unhandled: never = event;
        throw new Error(`unhandled job event ${JSON.stringify(unhandled)}`);
      }
    }
  }

  private cancel(): void {
    this.listener.status("stopping");
    this.api.request("DELETE", `/jobs/${encodeURIComponent(this.jobId ?? "")}`).catch(() => {
      // 409: it finished first; the stream reports the result either way.
    });
  }
}

/** A run whose output streams in over SSE. */
export function startRun(api: ApiClient, request: JobRequestInput, listener: RunListener): RunHandle {
  const follower = new RunFollower(api, listener);

  const run = async (): Promise<RunOutcome> => {
    follower.status("submitting");
    let response: Response;
    try {
      response = await api.open("POST", "/run?stream=1", request, "text/event-stream");
    } catch (error) {
      if (error instanceof ApiError) return { kind: "rejected", error };
      throw error;
    }
    follower.identify(response.headers.get("x-job-id"));
    let lastId = "0-0";
    for (let resumes = 0; ; resumes++) {
      let broke: unknown = new Error("the event stream ended before the job did");
      try {
        if (resumes > 0) {
          const path = `/jobs/${encodeURIComponent(follower.jobId ?? "")}/events?lastEventId=${lastId}`;
          response = await api.open("GET", path, undefined, "text/event-stream");
          follower.resumed();
        }
        if (!response.body) throw new Error("the event stream has no body");
        for await (const message of readSse(response.body)) {
          if (message.id) lastId = message.id;
          const outcome = follower.take(JSON.parse(message.data) as JobEvent);
          if (outcome) return outcome;
        }
      } catch (error) {
        // An answer of the service (the job is gone, the key revoked) is final; a network error is not.
        if (error instanceof ApiError) throw error;
        broke = error;
      }
      // The stream broke off before the job ended (a proxy, a restarting API process, a network
      // blip): resume after the last event seen, after a short pause.
      if (resumes >= RESUMES || !follower.jobId) throw broke;
      follower.status("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, 500 * (resumes + 1)));
    }
  };

  return { outcome: run(), stop: () => follower.stop() };
}

/** A run over /ws whose stdin the person types while it runs. */
export function startInteractiveRun(
  api: ApiClient,
  request: JobRequestInput,
  listener: RunListener,
): InteractiveHandle {
  const follower = new RunFollower(api, listener);
  let socket: WebSocket | null = null;
  /** Input typed before the socket opened, sent right after init. */
  const pending: string[] = [];
  const send = (message: object) => {
    const text = JSON.stringify(message);
    if (socket?.readyState === WebSocket.OPEN) socket.send(text);
    else pending.push(text);
  };

  const connect = (): Promise<RunOutcome | "not-opened"> =>
    new Promise((resolve) => {
      const protocols: string[] = [LIVE_SUBPROTOCOL];
      if (api.key) protocols.push(keySubprotocol(base64url(api.key)));
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(`${scheme}//${location.host}/ws`, protocols);
      socket = ws;
      let opened = false;
      let error: { code: string; message: string } | null = null;
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify({ type: "init", request }));
        for (const text of pending.splice(0)) ws.send(text);
      };
      ws.onmessage = (message) => {
        const parsed = JSON.parse(String(message.data)) as
          | { type: "event"; id: string; event: JobEvent }
          | { type: "error"; error: { code: string; message: string } };
        if (parsed.type === "error") {
          error = parsed.error;
          return;
        }
        const outcome = follower.take(parsed.event);
        if (outcome) resolve(outcome);
      };
      ws.onclose = (close) => {
        if (!opened) return resolve("not-opened");
        // An error before the job was queued is the request refused (a field, a limit above the
        // ceiling, too many streams): shown like POST /run's 4xx answers.
        if (error && !follower.jobId) {
          const status = error.code === "E_TOO_MANY_STREAMS" ? 429 : 400;
          return resolve({ kind: "rejected", error: new ApiError(status, error.code, error.message) });
        }
        const message =
          error?.message ??
          (close.code === 1009
            ? "a message was larger than the live connection takes (LIVE_MESSAGE_BYTES)"
            : `the live connection closed (${close.code})`);
        resolve({ kind: "failed", id: follower.jobId ?? "", message });
      };
    });

  const run = async (): Promise<RunOutcome> => {
    follower.status("submitting");
    const outcome = await connect();
    if (outcome !== "not-opened") return outcome;
    // The upgrade was refused before it opened; the browser does not say why. The likely reason is
    // a missing or revoked key: an ordinary request asks for one (or says what else is wrong).
    try {
      await api.request("GET", "/languages");
    } catch (error) {
      if (error instanceof ApiError) return { kind: "rejected", error };
      throw error;
    }
    const again = await connect();
    if (again !== "not-opened") return again;
    throw new Error("the live connection (/ws) could not be opened");
  };

  const outcome = run();
  void outcome.finally(() => socket?.close()).catch(() => {});
  return {
    outcome,
    stop: () => follower.stop(),
    write(text) {
      for (let at = 0; at < text.length; ) {
        let end = Math.min(text.length, at + STDIN_PIECE_CHARS);
        // Never split a surrogate pair: half of one would reach the program as U+FFFD.
        if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1] ?? "")) end--;
        send({ type: "stdin", data: text.slice(at, end) });
        at = end;
      }
    },
    endInput: () => send({ type: "eof" }),
    interrupt: () => send({ type: "signal", signal: "SIGINT" }),
  };
}

/** A key as the key subprotocol carries it: its UTF-8 bytes in base64url. */
function base64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
