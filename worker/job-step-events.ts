import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Step } from "../contract/job-result.ts";
import type { StepOptions } from "../native/run-live-sandbox.ts";
import { JobEventWriter, type StepPlace } from "./job-event-writer.ts";
import { LiveInput } from "./live-input.ts";

// What run-job.ts tells about each step, and what it asks for its sandbox runs: the output
// callback for the job's event log, and for a live job's run step its input from Redis
// (live-input.ts). One per job, made by process-job.ts.

export type { StepPlace };

export interface JobStepEvents {
  stepStarted(place: StepPlace): void;
  stepFinished(place: StepPlace, step: Step): void;
  stepOptions(place: StepPlace): Pick<StepOptions, "onOutput" | "interactive">;
}

export class JobEvents implements JobStepEvents {
  readonly writer: JobEventWriter;
  private readonly input: LiveInput | null;
  private relays: Promise<void>[] = [];

  constructor(
    redis: Redis,
    prefix: string,
    jobId: string,
    ttlSeconds: number,
    live: boolean,
    private readonly log: Logger,
  ) {
    this.writer = new JobEventWriter(redis, prefix, jobId, ttlSeconds, log);
    this.input = live ? new LiveInput(redis, prefix, jobId, log) : null;
  }

  stepStarted(place: StepPlace): void {
    this.writer.stepStarted(place);
  }

  stepFinished(place: StepPlace, step: Step): void {
    this.input?.stop();
    this.writer.stepFinished(place, step);
  }

  stepOptions(place: StepPlace): Pick<StepOptions, "onOutput" | "interactive"> {
    const input = this.input;
    if (!input || place.stage !== "run") return { onOutput: this.writer.output };
    return {
      onOutput: this.writer.output,
      interactive: (controls) => {
        const relay = input
          .relay(controls)
          .catch((error) => this.log.warn({ err: error }, "live input relay failed"));
        this.relays.push(relay);
      },
    };
  }

  /** Waits for the input relays to let go of their connections. */
  async close(): Promise<void> {
    this.input?.stop();
    await Promise.all(this.relays);
  }
}
