// Live runs: output handed over while the program runs, stdin written into a running program
// with backpressure, end of input, signals to the program, and the output cap on the stream.
import { describe, expect, it } from "vitest";
import { type LiveRun, type OutputStream, startLiveSandbox } from "../../native/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { describe as describeReport, makeSpec, type SpecOverrides } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

interface Received {
  stream: OutputStream;
  text: string;
  atMs: number;
}

function live(
  argv: string[],
  overrides: SpecOverrides = {},
): LiveRun & { received: Received[]; text(s?: OutputStream): string } {
  const received: Received[] = [];
  const run = startLiveSandbox(makeSpec(argv, overrides), {
    onOutput: (stream, chunk) => received.push({ stream, text: chunk.toString(), atMs: performance.now() }),
  });
  const text = (s: OutputStream = "stdout") =>
    received
      .filter((r) => r.stream === s)
      .map((r) => r.text)
      .join("");
  return Object.assign(run, { received, text });
}

describe("live output", () => {
  it("a program printing every 100 ms is seen line by line before it ends", async () => {
    const run = live(["/bin/sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"]);
    let endedAt = 0;
    const report = await run.report.then((r) => {
      endedAt = performance.now();
      return r;
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(run.text()).toBe("line 1\nline 2\nline 3\nline 4\nline 5\n");
    expect(report.stdout.toString()).toBe(run.text());
    expect(run.received.length).toBeGreaterThanOrEqual(5);
    // The first line arrived at least 300 ms (three sleeps) before the run's end was known.
    expect(endedAt - (run.received[0]?.atMs ?? endedAt)).toBeGreaterThan(300);
  });

  it("stdout and stderr arrive as separate streams, each in order", async () => {
    const run = live(["/bin/sh", "-c", "echo a; echo b >&2; echo c; echo d >&2"]);
    const report = await run.report;
    expect(report.status).toBe("ok");
    expect(run.text("stdout")).toBe("a\nc\n");
    expect(run.text("stderr")).toBe("b\nd\n");
  });

  it("an output flood stops at the cap: the stream carries exactly the kept bytes", async () => {
    const run = live(["/usr/bin/yes"], { limits: { outputBytes: 100_000 } });
    const report = await run.report;
    expect(report.status, describeReport(report)).toBe("output_limit");
    expect(run.text().length).toBe(100_000);
    expect(report.stdout.length).toBe(100_000);
  });
});

describe("live stdin", () => {
  it("a program answers each line as it is written, and end of input ends cat", async () => {
    const run = live(["/bin/sh", "-c", 'while read n; do echo "got $n"; done; echo bye']);
    run.stdin.write("1\n");
    await eventually(() => run.text(), { until: (t) => t === "got 1\n", what: "the first answer" });
    run.stdin.write("2\n");
    await eventually(() => run.text(), { until: (t) => t === "got 1\ngot 2\n", what: "the second answer" });
    run.stdin.end();
    const report = await run.report;
    expect(report.status, describeReport(report)).toBe("ok");
    expect(run.text()).toBe("got 1\ngot 2\nbye\n");
  });

  it("closing stdin ends cat, which had echoed what it got", async () => {
    const run = live(["/bin/cat"]);
    run.stdin.end("hello\n");
    const report = await run.report;
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.exitCode).toBe(0);
    expect(run.text()).toBe("hello\n");
  });

  it("the request's stdin comes first, then what is written live", async () => {
    const run = live(["/bin/cat"], { stdin: Buffer.from("first\n") });
    run.stdin.end("second\n");
    const report = await run.report;
    expect(report.stdout.toString()).toBe("first\nsecond\n");
  });

  it("a flood of stdin into a program that never reads it meets backpressure: little is taken", async () => {
    const run = live(["/bin/sh", "-c", "echo started; sleep 1"]);
    // 8 MiB in 64 KiB pieces; a piece's callback runs once the pipe has taken it.
    let taken = 0;
    for (let i = 0; i < 128; i++)
      run.stdin.write(Buffer.alloc(64 << 10, "x"), (err) => {
        if (!err) taken += 64 << 10;
      });
    expect(run.stdin.writableNeedDrain).toBe(true);
    await eventually(() => run.text(), { until: (t) => t === "started\n", what: "the program started" });
    await eventually(() => taken, { until: (n) => n > 0, what: "the relay took something" });
    // Two pipes and the supervisor's 16 KiB buffer: well under a MiB of the 8 MiB sent.
    expect(taken).toBeLessThan(1 << 20);
    const report = await run.report;
    expect(report.status, describeReport(report)).toBe("ok");
  });

  it("a program reading everything gets every byte of a large input, in order", async () => {
    const run = live(["/bin/sh", "-c", "md5sum | cut -c1-32"]);
    const input = Buffer.alloc(3 << 20);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7) % 251;
    run.stdin.end(input);
    const report = await run.report;
    const { createHash } = await import("node:crypto");
    expect(report.stdout.toString().trim()).toBe(createHash("md5").update(input).digest("hex"));
  });
});

describe("live signals", () => {
  it("SIGINT to a Python loop raises KeyboardInterrupt in it", async () => {
    const run = live([
      "/usr/bin/python3",
      "-u",
      "-c",
      "import time\nprint('ready')\nwhile True: time.sleep(0.05)",
    ]);
    await eventually(() => run.text(), { until: (t) => t.includes("ready"), what: "python ready" });
    run.signal("SIGINT");
    const report = await run.report;
    expect(report.status, describeReport(report)).toBe("runtime_error");
    expect(run.text("stderr")).toContain("KeyboardInterrupt");
  });

  it("SIGTERM reaches the whole process group (a shell and its child)", async () => {
    const run = live(["/bin/sh", "-c", "echo go; sleep 30; echo never"]);
    await eventually(() => run.text(), { until: (t) => t === "go\n", what: "the shell started" });
    run.signal("SIGTERM");
    const report = await run.report;
    expect(report.signal).toBe("SIGTERM");
    expect(report.wallTimeMs).toBeLessThan(10_000);
    expect(run.text()).toBe("go\n");
  });

  it("SIGKILL ends a program that ignores SIGINT and SIGTERM", async () => {
    const run = live(["/bin/sh", "-c", "trap '' INT TERM; echo go; while :; do sleep 0.05; done"]);
    await eventually(() => run.text(), { until: (t) => t === "go\n", what: "the shell started" });
    run.signal("SIGINT");
    run.signal("SIGTERM");
    run.signal("SIGKILL");
    const report = await run.report;
    expect(report.signal).toBe("SIGKILL");
    expect(report.stopReason).toBeNull();
  });

  it("an idle interactive run still ends at its wall limit", async () => {
    const run = live(["/bin/cat"], { limits: { wallTimeMs: 500 } });
    const report = await run.report;
    expect(report.status).toBe("time_limit");
    expect(report.stopReason).toBe("wall_time");
  });
});
