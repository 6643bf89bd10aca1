import type { Redis } from "ioredis";
import type { Logger } from "pino";
import {
  type JobEvent,
  jobEventKeys,
  OUTPUT_PIECE_BYTES,
  OUTPUT_PIECE_MS,
  type OutputStream,
  type Stage,
} from "../contract/job-events.ts";
import type { JobResult, Step } from "../contract/job-result.ts";
import { appendJobEvents } from "../redis/job-event-log.ts";

// A job's events as its worker writes them (contract/job-events.ts). Output arrives from the
// sandbox in pieces as small as one write() of the program; it is coalesced here so a program
// printing a byte at a time does not become a million stream entries: the first piece after a
// quiet moment goes out at once (an interactive prompt is not delayed), later ones wait at most
// OUTPUT_PIECE_MS or until OUTPUT_PIECE_BYTES are pending. A UTF-8 character split between two
// reads is held back until it is whole. Nothing is awaited: the job never waits on its event log.
// Events of one tick go out as one pipeline, and the stream's EXPIRE is sent with the first
// append, when half the TTL has passed since the last one, and with the final event — not with
// every append (bench:budget: a trivial job's four appends were four XADD + four EXPIRE). The final
// event (job.finished, job.failed) is sent at once, ahead of the job's completion on this
// connection, so a reader that sees the job finished finds its last event in the stream.

/** Where a step runs in its job. */
export interface StepPlace {
  stage: Stage;
  test: number | null;
}

export class JobEventWriter {
  private readonly key: string;
  private place: StepPlace = { stage: "run", test: null };
  private pending: { stream: OutputStream; chunks: Buffer[] }[] = [];
  private pendingBytes = 0;
  private readonly carry: Record<OutputStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly offset: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  private timer: NodeJS.Timeout | null = null;
  private lastFlushMs = 0;
  /** Events waiting for the end of this tick. */
  private batch: JobEvent[] = [];
  private batchQueued = false;
  /** When the stream's TTL is to be set again (Date.now() ms); 0: with the first append. */
  private expireDueMs = 0;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    jobId: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {
    this.key = jobEventKeys(prefix).events(jobId);
  }

  started(worker: string, slot: number): void {
    this.append([{ type: "job.started", worker, slot }]);
  }

  stepStarted(place: StepPlace): void {
    this.place = place;
    this.offset.stdout = this.offset.stderr = 0;
    this.append([{ type: "step.started", ...place }]);
  }

  /** A piece of the current step's output, as the sandbox read it. */
  readonly output = (stream: OutputStream, chunk: Buffer): void => {
    const last = this.pending.at(-1);
    if (last?.stream === stream) last.chunks.push(chunk);
    else this.pending.push({ stream, chunks: [chunk] });
    this.pendingBytes += chunk.length;
    const sinceFlush = performance.now() - this.lastFlushMs;
    if (this.pendingBytes >= OUTPUT_PIECE_BYTES || (!this.timer && sinceFlush >= OUTPUT_PIECE_MS))
      this.flush(false);
    else this.timer ??= setTimeout(() => this.flush(false), OUTPUT_PIECE_MS - Math.max(0, sinceFlush));
  };

  stepFinished(place: StepPlace, step: Step): void {
    this.flush(true);
    this.append([{ type: "step.finished", ...place, step }]);
  }

  finished(result: JobResult): void {
    this.append([{ type: "job.finished", result }], true);
  }

  failed(code: string, message: string): void {
    this.flush(true);
    this.append([{ type: "job.failed", error: { code, message } }], true);
  }

  /** Pending output as events; at the step's end (final) a held-back partial character too. */
  private flush(final: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlushMs = performance.now();
    const events: JobEvent[] = [];
    const piece = (stream: OutputStream, bytes: Buffer) => {
      if (bytes.length === 0) return;
      events.push({
        type: "output",
        ...this.place,
        stream,
        offset: this.offset[stream],
        data: bytes.toString("utf8"),
      });
      this.offset[stream] += bytes.length;
    };
    for (const { stream, chunks } of this.pending) {
      const bytes = Buffer.concat([this.carry[stream], ...chunks]);
      const end = utf8CompleteLength(bytes);
      piece(stream, bytes.subarray(0, end));
      this.carry[stream] = bytes.subarray(end);
    }
    this.pending = [];
    this.pendingBytes = 0;
    if (final) {
      for (const stream of ["stdout", "stderr"] as const) {
        piece(stream, this.carry[stream]);
        this.carry[stream] = Buffer.alloc(0);
      }
    }
    this.append(events);
  }

  private append(events: JobEvent[], final = false): void {
    this.batch.push(...events);
    if (final) this.send(true);
    else if (!this.batchQueued && this.batch.length > 0) {
      this.batchQueued = true;
      process.nextTick(() => this.send(false));
    }
  }

  private send(final: boolean): void {
    this.batchQueued = false;
    if (this.batch.length === 0) return;
    const now = Date.now();
    const expire = final || now >= this.expireDueMs;
    if (expire) this.expireDueMs = now + (this.ttlSeconds * 1000) / 2;
    appendJobEvents(this.redis, this.key, this.batch, expire ? this.ttlSeconds : null, (error) =>
      this.log.warn({ err: error, key: this.key }, "append job events failed"),
    );
    this.batch = [];
  }
}

/** Length of the longest prefix of bytes that does not end inside a UTF-8 character. */
export function utf8CompleteLength(bytes: Buffer): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
