import type { OutputStream } from "../contract/job-events.ts";
import type { JobStepEvents, StepPlace } from "./job-step-events.ts";

// A job's step events in test order while its tests run side by side (fan-out-tests.ts). The
// event log has one current step (job-event-writer.ts: a step's output belongs to the step last
// started), and readers expect each test's start, output and end in test order. So the events
// of the earliest unfinished test pass through as they happen, and a later test's are held, in
// their order, until every test before it has finished. A reader sees what a one-slot run would
// have shown, only sooner; a job that fails mid-way drops the held events of tests after the
// failure, as a one-slot run would not have started them.

export class OrderedStepEvents {
  private head = 0;
  private readonly held = new Map<number, (() => void)[]>();
  private readonly finished = new Set<number>();

  constructor(private readonly inner: JobStepEvents) {}

  /** The events of test `index`. */
  of(index: number): JobStepEvents {
    const { inner } = this;
    const emit = (event: () => void) => {
      if (index === this.head) event();
      else this.heldOf(index).push(event);
    };
    return {
      stepStarted: (place: StepPlace) => emit(() => inner.stepStarted(place)),
      stepFinished: (place, step) => {
        emit(() => inner.stepFinished(place, step));
        this.finish(index);
      },
      stepOptions: (place) => {
        const options = inner.stepOptions(place);
        const onOutput = options.onOutput;
        if (!onOutput) return options;
        return {
          ...options,
          onOutput: (stream: OutputStream, chunk: Buffer) => emit(() => onOutput(stream, chunk)),
        };
      },
    };
  }

  /** Test `index` ends without events of its own (skipped by its score group). */
  finish(index: number): void {
    this.finished.add(index);
    while (this.finished.has(this.head)) {
      this.head++;
      const events = this.held.get(this.head);
      this.held.delete(this.head);
      for (const event of events ?? []) event();
    }
  }

  private heldOf(index: number): (() => void)[] {
    let events = this.held.get(index);
    if (!events) {
      events = [];
      this.held.set(index, events);
    }
    return events;
  }
}
