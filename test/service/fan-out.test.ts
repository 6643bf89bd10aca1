// A job's tests fanned out over the worker's free slots (worker/fan-out-tests.ts), through the
// whole service (real queue, worker with two slots, sandbox). Which slot ran a test is read by the
// program itself from /proc/self/uid_map inside its container: the host id its root maps to is
// its slot's first id (contract/sandbox-identity.ts). On an idle worker the job's own slot takes
// test 0 and the other slot is borrowed for test 1 at once, so no timing decides that.
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobEvent } from "../../contract/job-events.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService, waitForStatus } from "../helpers/service.ts";
import { workRootLeftovers } from "../helpers/work-root.ts";
import { startWorkerProcess, type WorkerProcess } from "../helpers/worker-process.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED fan-out tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;
let oneSlot: TestService;
let oneSlotWorker: WorkerProcess | undefined;

/** Prints the first word of stdin after sleeping the second's seconds; its slot's base on stderr. */
const echoAfter = [
  "import sys, time",
  "word, delay = sys.stdin.read().split()",
  "print(open('/proc/self/uid_map').read().split()[1], file=sys.stderr)",
  "time.sleep(float(delay))",
  "print(word)",
].join("\n");

const test = (word: string, delay: number, expected = word) => ({
  stdin: `${word} ${delay}`,
  expectedOutput: `${expected}\n`,
});

interface RunStep {
  verdict: string;
  stdout: string;
  stderr: string;
  score?: number;
  checker?: { message: string };
  interactor?: { message: string };
}

/** The host id base of the slot each test ran on, as its program printed it. */
const slotsOf = (runs: RunStep[]) => runs.map((run) => run.stderr.trim().split("\n")[0]);

describe.skipIf(unavailable !== null)(
  `tests fanned out over free slots ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "2" } });
      // One sandbox host per process: the one-slot worker is a process of its own.
      oneSlot = await startTestService({ redisUrl: redis.url, worker: false });
      oneSlotWorker = await startWorkerProcess({ ...oneSlot.env, WORKER_SLOTS: "1" });
    });

    afterAll(async () => {
      await service?.close();
      await oneSlotWorker?.kill();
      await oneSlot?.close();
      await redis?.stop();
    });

    it("a slow first test does not hold the others back: results and events stay in test order", async () => {
      const response = await service.post("/run?stream=1", {
        language: "python",
        source: echoAfter,
        tests: [test("a", 1), test("b", 0), test("c", 0, "x"), test("d", 0)],
      });
      const events: JobEvent[] = (await response.text())
        .trimEnd()
        .split("\n\n")
        .map((frame) =>
          JSON.parse(
            frame
              .split("\n")
              .find((line) => line.startsWith("data: "))
              ?.slice(6) ?? "{}",
          ),
        );
      const last = events.at(-1);
      if (last?.type !== "job.finished") throw new Error(`no result: ${JSON.stringify(last)}`);
      const { result } = last;
      expect(result.verdict).toBe("wrong_answer");
      expect(result.runs.map((run) => [run.verdict, run.stdout])).toEqual([
        ["accepted", "a\n"],
        ["accepted", "b\n"],
        ["wrong_answer", "c\n"],
        ["accepted", "d\n"],
      ]);
      expect(new Set(slotsOf(result.runs)).size).toBe(2);
      // Each test's start, output and end, one test after another, as one slot would have written them.
      const steps = events.flatMap((event) =>
        event.type === "step.started" || event.type === "step.finished" || event.type === "output"
          ? [`${event.test}:${event.type}`]
          : [],
      );
      const ends = steps.filter((step) => !step.endsWith(":output"));
      expect(ends).toEqual([0, 1, 2, 3].flatMap((t) => [`${t}:step.started`, `${t}:step.finished`]));
      for (const [index, step] of steps.entries()) {
        if (!step.endsWith(":output")) continue;
        const owner = step.split(":")[0];
        const started = steps.lastIndexOf(`${owner}:step.started`, index);
        const between = steps.slice(started + 1, index);
        expect(started, `${step} after its step's start`).toBeGreaterThanOrEqual(0);
        expect(
          between.every((s) => s.startsWith(`${owner}:`)),
          `${step} inside its own step`,
        ).toBe(true);
      }
    });

    it("the same job on two slots and on one gives the same result but for its times", async () => {
      const job = {
        language: "python",
        source: "import sys\nn = int(sys.stdin.read())\nprint(n * n if n != 3 else 0)\nsys.exit(n == 4)",
        tests: [1, 2, 3, 4, 5].map((n) => ({ stdin: String(n), expectedOutput: `${n * n}\n` })),
      };
      const comparable = (result: { verdict: string; runs: RunStep[] }) => ({
        verdict: result.verdict,
        runs: result.runs.map(({ verdict, stdout, score }) => ({ verdict, stdout, score })),
      });
      const [two, one] = await Promise.all([runJob(service, job), runJob(oneSlot, job)]);
      expect(comparable(two)).toEqual(comparable(one));
      expect(two.verdict).toBe("wrong_answer");
    });

    it("a checker job fans out: each test's checker runs on its test's slot and judges it", async () => {
      const checker = {
        language: "python",
        source: [
          "import sys",
          "out, ans = (open(p).read().split() for p in sys.argv[2:4])",
          "print('saw', out[0], file=sys.stderr)",
          "sys.exit(0 if out == ans else 1)",
        ].join("\n"),
      };
      const result = await runJob(service, {
        language: "python",
        source: echoAfter,
        checker,
        tests: [test("a", 0.5), test("b", 0), test("c", 0, "z")],
      });
      expect(result.runs.map((run: RunStep) => [run.verdict, run.checker?.message])).toEqual([
        ["accepted", "saw a\n"],
        ["accepted", "saw b\n"],
        ["wrong_answer", "saw c\n"],
      ]);
      expect(new Set(slotsOf(result.runs)).size).toBe(2);
    });

    it("an interactive job fans out: program and interactor meet on the test's slot", async () => {
      const interactor = {
        language: "python",
        source: [
          "import sys",
          "n = int(open(sys.argv[1]).read())",
          "print(n, flush=True)",
          "got = int(sys.stdin.readline())",
          "print('got', got, file=sys.stderr)",
          "sys.exit(0 if got == 2 * n else 1)",
        ].join("\n"),
      };
      const doubler = [
        "import sys",
        "print(open('/proc/self/uid_map').read().split()[1], file=sys.stderr)",
        "print(2 * int(input()), flush=True)",
      ].join("\n");
      const result = await runJob(service, {
        language: "python",
        source: doubler,
        interactor,
        tests: [4, 5, 6].map((n) => ({ stdin: String(n), expectedOutput: "" })),
      });
      expect(result.runs.map((run: RunStep) => [run.verdict, run.interactor?.message])).toEqual([
        ["accepted", "got 8\n"],
        ["accepted", "got 10\n"],
        ["accepted", "got 12\n"],
      ]);
      expect(new Set(slotsOf(result.runs)).size).toBe(2);
    });

    it("a job taken while its slot is lent starts after one borrowed test, not after the whole fan-out", async () => {
      const long = {
        language: "python",
        source: echoAfter,
        tests: Array.from({ length: 20 }, (_, i) => test(`t${i}`, 0.5)),
      };
      const { id } = await (await service.post("/jobs", long)).json();
      await waitForStatus(service, id, ["running"]);
      // The long job's tests have both slots; this one waits for one test to end, then runs.
      const short = await runJob(service, { language: "bash", source: "echo short" });
      expect(short.runs[0].stdout).toBe("short\n");
      expect((await (await service.get(`/jobs/${id}`)).json()).status).toBe("running");
      const done = await waitForStatus(service, id, ["completed"]);
      expect(done.result.verdict).toBe("accepted");
      expect(done.result.runs).toHaveLength(20);
    });

    it("cancelling a fanned-out job stops its tests on every slot and gives every slot back", async () => {
      const sleeper = {
        language: "python",
        source: echoAfter,
        limits: { wallTimeMs: 30_000 },
        tests: Array.from({ length: 6 }, (_, i) => test(`t${i}`, 25)),
      };
      await workRootLeftovers(service);
      const { id } = await (await service.post("/jobs", sleeper)).json();
      // Its work dir and the borrowed slot's copy of it: tests run on both slots now.
      await eventually(() => readdir(service.config.worker.WORK_ROOT), {
        until: (entries) => entries.length >= 2,
        what: "the job's dir and its copy for the borrowed slot",
      });
      expect((await service.del(`/jobs/${id}`)).status).toBe(200);
      await waitForStatus(service, id, ["cancelled"]);
      await workRootLeftovers(service);
      const next = await runJob(service, {
        language: "python",
        source: echoAfter,
        tests: [test("a", 0), test("b", 0)],
      });
      expect(new Set(slotsOf(next.runs)).size).toBe(2);
    });
  },
);
