import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobEvent } from "../../contract/job-events.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// A job's events over Server-Sent Events, read with the `eventsource` client (the WHATWG
// EventSource for Node): output while the program runs, resume after a reconnect, replay of a
// finished job, POST /run?stream=1.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED job event tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

const TICKER = "import time\nfor i in range(8):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)\n";

interface Seen {
  id: string;
  event: JobEvent;
  atMs: number;
}

const TYPES = [
  "job.queued",
  "job.started",
  "step.started",
  "output",
  "step.finished",
  "job.finished",
  "job.failed",
];

/** Opens an EventSource on url and collects its events until the final one (or stop()). */
function follow(url: string, init: { lastEventId?: string } = {}) {
  const seen: Seen[] = [];
  const source = new EventSource(url, {
    fetch: (input, options) =>
      fetch(input, {
        ...options,
        headers: { ...options?.headers, ...(init.lastEventId ? { "last-event-id": init.lastEventId } : {}) },
      }),
  });
  const done = new Promise<void>((resolve, reject) => {
    for (const type of TYPES)
      source.addEventListener(type, (message) => {
        seen.push({ id: message.lastEventId, event: JSON.parse(message.data), atMs: performance.now() });
        if (type === "job.finished" || type === "job.failed") {
          source.close();
          resolve();
        }
      });
    source.onerror = (error) => {
      if (source.readyState === EventSource.CLOSED)
        reject(new Error(`event source closed: ${error.message}`));
    };
  });
  return { seen, done, close: () => source.close() };
}

const outputOf = (seen: Seen[]) =>
  seen
    .map((s) => s.event)
    .flatMap((e) => (e.type === "output" && e.stream === "stdout" ? [e.data] : []))
    .join("");

describe.skipIf(unavailable !== null)(`job events over SSE ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({
      redisUrl: redis.url,
      worker: true,
      env: { WORKER_SLOTS: "2", LIVE_STREAMS_PER_KEY: "3" },
    });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("a program printing every 100 ms is seen line by line before it ends, events in order", async () => {
    const { id } = await (await service.post("/jobs", { language: "python", source: TICKER })).json();
    const stream = follow(`${service.api.url}/jobs/${id}/events`);
    await stream.done;
    const types = stream.seen.map((s) => s.event.type);
    expect(types[0]).toBe("job.queued");
    expect(types.slice(1, 3)).toEqual(["job.started", "step.started"]);
    expect(types.slice(-2)).toEqual(["step.finished", "job.finished"]);
    expect(outputOf(stream.seen)).toBe(Array.from({ length: 8 }, (_, i) => `tick ${i}\n`).join(""));
    const outputs = stream.seen.filter((s) => s.event.type === "output");
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    // The first line was received well before the run ended (7 sleeps of 100 ms after it).
    const finished = stream.seen.find((s) => s.event.type === "step.finished");
    expect((finished?.atMs ?? 0) - (outputs[0]?.atMs ?? 0)).toBeGreaterThan(400);
    // Offsets count the stream's bytes.
    let offset = 0;
    for (const { event } of outputs) {
      if (event.type !== "output") continue;
      expect(event.offset).toBe(offset);
      offset += Buffer.byteLength(event.data);
    }
    const ids = stream.seen.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a client that reconnects mid-run with Last-Event-ID misses nothing and sees nothing twice", async () => {
    const { id } = await (await service.post("/jobs", { language: "python", source: TICKER })).json();
    const first = follow(`${service.api.url}/jobs/${id}/events`);
    await eventually(() => first.seen.filter((s) => s.event.type === "output").length, {
      until: (n) => n >= 2,
      what: "two output events",
    });
    first.close();
    const lastId = first.seen.at(-1)?.id as string;
    const second = follow(`${service.api.url}/jobs/${id}/events`, { lastEventId: lastId });
    await second.done;
    const all = [...first.seen, ...second.seen];
    expect(second.seen[0]?.event.type).not.toBe("job.queued");
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    expect(outputOf(all)).toBe(Array.from({ length: 8 }, (_, i) => `tick ${i}\n`).join(""));
  });

  it("a finished job replays all its events, ending with its result", async () => {
    const { id } = await (await service.post("/jobs", { language: "bash", source: "echo replayed" })).json();
    await follow(`${service.api.url}/jobs/${id}/events`).done;
    const replay = follow(`${service.api.url}/jobs/${id}/events`);
    await replay.done;
    expect(outputOf(replay.seen)).toBe("replayed\n");
    const last = replay.seen.at(-1)?.event;
    expect(last?.type === "job.finished" && last.result.runs[0]?.stdout).toBe("replayed\n");
  });

  it("POST /run?stream=1 answers with the job's event stream", async () => {
    const response = await service.post("/run?stream=1", { language: "bash", source: "echo streamed" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const id = response.headers.get("x-job-id");
    const text = await response.text();
    expect(text).toContain(`"type":"job.queued","id":"${id}"`);
    expect(text).toContain('"data":"streamed\\n"');
    expect(text.trimEnd().split("\n\n").at(-1)).toContain("event: job.finished");
  });

  it("an output flood over a stream stops at the cap", async () => {
    const response = await service.post("/run?stream=1", {
      language: "bash",
      source: "yes",
      limits: { outputBytes: 50_000 },
    });
    const frames = (await response.text()).trimEnd().split("\n\n");
    const events = frames.map((f) =>
      JSON.parse(
        f
          .split("\n")
          .find((l) => l.startsWith("data: "))
          ?.slice(6) ?? "{}",
      ),
    );
    const bytes = events
      .filter((e) => e.type === "output")
      .reduce((n, e) => n + Buffer.byteLength(e.data), 0);
    expect(bytes).toBe(50_000);
    expect(events.at(-1).result.verdict).toBe("output_limit");
  });

  it("a job cancelled while it runs ends its stream with job.failed E_JOB_CANCELLED", async () => {
    const { id } = await (
      await service.post("/jobs", { language: "bash", source: "echo started; sleep 30" })
    ).json();
    const stream = follow(`${service.api.url}/jobs/${id}/events`);
    await eventually(() => outputOf(stream.seen), {
      until: (t) => t === "started\n",
      what: "the job started",
    });
    expect((await service.del(`/jobs/${id}`)).status).toBe(200);
    await stream.done;
    const last = stream.seen.at(-1)?.event;
    expect(last?.type === "job.failed" && last.error.code).toBe("E_JOB_CANCELLED");
  });

  it("a key may hold LIVE_STREAMS_PER_KEY streams at once; one more gets 429 E_TOO_MANY_STREAMS", async () => {
    const { id } = await (await service.post("/jobs", { language: "bash", source: "sleep 30" })).json();
    const open = [1, 2, 3].map(() => follow(`${service.api.url}/jobs/${id}/events`));
    await eventually(() => open.every((s) => s.seen.length > 0), { what: "three streams open" });
    const fourth = await service.get(`/jobs/${id}/events`);
    expect(fourth.status).toBe(429);
    expect((await fourth.json()).error.code).toBe("E_TOO_MANY_STREAMS");
    for (const s of open) s.close();
    // Closed streams give their places back.
    const statusOfNewStream = async () => {
      const abort = new AbortController();
      const response = await fetch(`${service.api.url}/jobs/${id}/events`, { signal: abort.signal });
      abort.abort();
      return response.status;
    };
    await eventually(statusOfNewStream, { until: (status) => status === 200, what: "a place given back" });
    await service.del(`/jobs/${id}`);
  });

  it("bad requests get 4xx with codes: unknown job, bad Last-Event-ID, bad stream flag", async () => {
    const unknown = await service.get("/jobs/00000000-0000-4000-8000-000000000000/events");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("E_JOB_NOT_FOUND");
    const { id } = await (await service.post("/jobs", { language: "bash", source: "true" })).json();
    const bad = await service.get(`/jobs/${id}/events`, { "last-event-id": "../../etc" });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("E_VALIDATION");
    const flag = await service.post("/run?stream=yes", { language: "bash", source: "true" });
    expect(flag.status).toBe(400);
  });
});
