// Interactive problems through the whole service (real queue, worker and sandbox): the program and
// an interactor in two sandboxes, cross-connected by pipes the worker makes. A binary search
// solved right and wrong, a program that never answers, one that floods, one that keeps running
// after the test, an interactor that crashes or never ends — each with the right verdict and
// nothing left behind.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";
import { workRootLeftovers } from "../helpers/work-root.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED interactive tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

/** Guess a number in 1..100 with at most 7 queries "? x" answered <, > or =; then "! x". */
const interactor = {
  language: "python",
  source: [
    "import sys, time",
    "n = int(open(sys.argv[1]).read())",
    "delay = float(open(sys.argv[3]).read() or 0)",
    "queries = 0",
    "while True:",
    "    line = sys.stdin.readline()",
    "    if not line:",
    "        print('no answer', file=sys.stderr); sys.exit(1)",
    "    parts = line.split()",
    "    try:",
    "        kind, x = parts[0], int(parts[1])",
    "    except (IndexError, ValueError):",
    "        print('garbage', repr(line[:20]), file=sys.stderr); sys.exit(1)",
    "    if kind == '!':",
    "        print('answered', x, 'after', queries, 'queries', file=sys.stderr)",
    "        sys.exit(0 if x == n else 1)",
    "    queries += 1",
    "    if queries > 7:",
    "        print('too many queries', file=sys.stderr); sys.exit(1)",
    "    time.sleep(delay)",
    "    print('<' if n < x else '>' if n > x else '=', flush=True)",
  ].join("\n"),
};

const binarySearch = [
  "lo, hi = 1, 100",
  "while True:",
  "    mid = (lo + hi) // 2",
  "    print('?', mid, flush=True)",
  "    reply = input()",
  "    if reply == '=':",
  "        print('!', mid, flush=True); break",
  "    if reply == '<': hi = mid - 1",
  "    else: lo = mid + 1",
].join("\n");

/** A test: the hidden number is the interactor's input; its answer file holds a per-reply delay. */
const test = (n: number, delaySeconds = 0) => ({ stdin: String(n), expectedOutput: String(delaySeconds) });

const solve = (source: string, extra: object = {}) =>
  runJob(service, { language: "python", source, interactor, tests: [test(42), test(7)], ...extra });

describe.skipIf(unavailable !== null)(`interactive problems ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({ redisUrl: redis.url, worker: true });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("a binary search solved right is accepted on every test, with the interactor's message", async () => {
    const result = await solve(binarySearch);
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual(["accepted", "accepted"]);
    expect(result.runs[0].interactor.message).toBe("answered 42 after 7 queries\n");
    expect(result.runs[0].score).toBe(1);
    expect(result.verdict).toBe("accepted");
  });

  it("a wrong guess is a wrong answer", async () => {
    const result = await solve("print('! 1', flush=True)");
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "wrong_answer",
      "wrong_answer",
    ]);
    expect(result.runs[0].interactor.message).toBe("answered 1 after 0 queries\n");
  });

  it("a program that never answers waits out its wall time: time_limit, not blamed on the interactor", async () => {
    const result = await solve("import time\ntime.sleep(60)", { limits: { wallTimeMs: 1000 } });
    expect(result.runs[0]).toMatchObject({ verdict: "time_limit", stopReason: "wall_time" });
    expect(result.runs[0].interactor.message).toBe("no answer\n");
  });

  it("a program flooding the interactor gets the interactor's wrong answer, not a hang", async () => {
    const result = await solve("import sys\nwhile True: sys.stdout.write('? 50\\n' * 10000)");
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "wrong_answer",
      "wrong_answer",
    ]);
    expect(result.runs[0].interactor.message).toBe("too many queries\n");
  });

  it("an interactor that crashes is a checker_error, never the program's fault", async () => {
    const result = await solve(binarySearch, {
      interactor: {
        language: "c",
        source:
          '#include <stdio.h>\nint main(void){fputs("interactor bug", stderr); *(volatile int *)0 = 1;}',
      },
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "checker_error",
      "checker_error",
    ]);
    expect(result.runs[0].interactor).toMatchObject({ signal: "SIGSEGV", message: "interactor bug" });
    expect(result.interactorCompile.verdict).toBe("ok");
    expect(result.verdict).toBe("checker_error");
  });

  it("a program that keeps running after the interactor ended is stopped, and its right answer stands", async () => {
    const spin = `${binarySearch}\nwhile True: pass`;
    const result = await solve(spin, { limits: { wallTimeMs: 10_000, cpuTimeMs: 10_000 } });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual(["accepted", "accepted"]);
    expect(result.runs[0].stopReason).toBe("cancelled");
    expect(result.runs[0].usage.wallTimeMs).toBeLessThan(5000);
  });

  it("an interactor that keeps running after the program ended is stopped: checker_error", async () => {
    const result = await solve(binarySearch, {
      // The interactor's own CPU limit is far above the grace it gets once the program ended, so it
      // is the grace that stops it, however slow the machine.
      interactor: {
        language: "bash",
        source: "read -r line; echo =; while :; do :; done",
        limits: { cpuTimeMs: 8000, wallTimeMs: 10_000 },
      },
      limits: { wallTimeMs: 10_000 },
    });
    expect(result.runs[0]).toMatchObject({ verdict: "checker_error", exitCode: 0 });
    expect(result.runs[0].interactor.stopReason).toBe("cancelled");
    expect(result.runs[0].interactor.usage.wallTimeMs).toBeLessThan(9000);
  });

  it("time spent waiting for the interactor is not the program's CPU time", async () => {
    const result = await runJob(service, {
      language: "python",
      source: binarySearch,
      interactor,
      tests: [test(42, 0.25)],
    });
    expect(result.runs[0].verdict).toBe("accepted");
    expect(result.runs[0].usage.wallTimeMs).toBeGreaterThan(1400);
    expect(result.runs[0].usage.cpuTimeMs).toBeLessThan(1000);
  });

  it("an interactor with a checker or file I/O is refused, naming the field", async () => {
    const base = { language: "python", source: binarySearch, interactor, tests: [test(1)] };
    const withChecker = await service.post("/run", { ...base, checker: interactor });
    expect((await withChecker.json()).error.details[0].field).toBe("checker");
    const withFiles = await service.post("/run", {
      ...base,
      tests: [{ ...test(1), files: [{ path: "in.txt", content: "" }] }],
    });
    expect(withFiles.status).toBe(400);
    expect((await withFiles.json()).error.details[0].field).toBe("tests.0");
  });

  it("nothing is left behind: no work dir, pipe dir or judge dir", async () => {
    expect(await workRootLeftovers(service)).toEqual([]);
  });
});
