import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type JobInput, JobInputSchema, jobEventKeys, type LiveSignalName } from "../contract/job-events.ts";
import { parseJsonWith } from "../contract/parse-json.ts";

// A live job's input, from the Redis streams its API process writes (contract/job-events.ts) to
// the running program. Stdin is taken a few entries at a time and only while the program's stdin
// takes it: a write that fills the pipes stops the reading until "drain", so unread input stays
// in Redis (where the API bounds it), never here. Taken entries are deleted, which is how the API
// sees progress. Signals have a stream of their own, read even while stdin waits. The reads
// block, so each live run has a connection of its own, closed when the run ends.

/** What a live sandbox run offers its input. */
export interface LiveControls {
  stdin: Writable;
  signal(name: LiveSignalName): void;
}

const BLOCK_MS = 200;
/** While stdin waits for "drain", signals are read with a short block so stdin resumes soon. */
const DRAIN_BLOCK_MS = 20;
const ENTRIES_PER_READ = 16;

type StreamsReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

export class LiveInput {
  private stopped = false;
  private connection: Redis | null = null;
  private readonly inputKey: string;
  private readonly signalsKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    jobId: string,
    private readonly log: Logger,
  ) {
    const keys = jobEventKeys(prefix);
    this.inputKey = keys.input(jobId);
    this.signalsKey = keys.signals(jobId);
  }

  /** Relays input to the run until stop(); resolves when the relay has ended. */
  async relay(run: LiveControls): Promise<void> {
    if (this.stopped) return;
    const connection = this.redis.duplicate();
    this.connection = connection;
    connection.on("error", (error) => this.log.warn({ err: error }, "live input connection error"));
    let inputId = "0-0";
    let signalsId = "0-0";
    let drained: Promise<unknown> | null = null;
    let stdinOpen = true;
    try {
      while (!this.stopped) {
        const readStdin = stdinOpen && drained === null;
        const streams = readStdin ? [this.inputKey, this.signalsKey] : [this.signalsKey];
        const ids = readStdin ? [inputId, signalsId] : [signalsId];
        const reply = (await connection.xread(
          "COUNT",
          ENTRIES_PER_READ,
          "BLOCK",
          drained ? DRAIN_BLOCK_MS : BLOCK_MS,
          "STREAMS",
          ...streams,
          ...ids,
        )) as StreamsReply;
        for (const [key, entries] of reply ?? []) {
          const taken = entries.map(([id]) => id);
          const last = taken.at(-1);
          if (!last) continue;
          if (key === this.signalsKey) signalsId = last;
          else inputId = last;
          for (const [, fields] of entries) {
            const input = parseJsonWith(JobInputSchema, fields[fields.indexOf("i") + 1] ?? "");
            if (input) stdinOpen = this.apply(run, input, (wait) => (drained = wait)) && stdinOpen;
          }
          await connection.xdel(key, ...taken);
        }
        if (drained && (run.stdin.writableNeedDrain === false || run.stdin.destroyed)) drained = null;
      }
    } catch (error) {
      if (!this.stopped) throw error; // stop() cut the connection in the middle of a read
    } finally {
      connection.disconnect();
    }
  }

  /** Ends the relay at once (the run has ended; nothing more can reach it). */
  stop(): void {
    this.stopped = true;
    this.connection?.disconnect();
  }

  /** Applies one entry; returns false once stdin is closed. */
  private apply(run: LiveControls, input: JobInput, waitFor: (drain: Promise<unknown>) => void): boolean {
    switch (input.type) {
      case "signal":
        run.signal(input.signal);
        return true;
      case "eof":
        run.stdin.end();
        return false;
      case "stdin":
        if (!run.stdin.write(Buffer.from(input.data, "utf8")))
          waitFor(once(run.stdin, "drain").catch(() => undefined));
        return true;
    }
  }
}
