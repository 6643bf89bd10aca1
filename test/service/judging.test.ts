// Contest judging through the whole service (real queue, worker and sandbox): per-test limits and
// built-in checkers per test, custom checker programs, subtasks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";
import { workRootLeftovers } from "../helpers/work-root.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED judging tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

describe.skipIf(unavailable !== null)(`judging tests ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({ redisUrl: redis.url, worker: true });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("a test's own wall-time limit overrides the job's for that test only", async () => {
    const result = await runJob(service, {
      language: "bash",
      source: "read s; sleep $s; echo done",
      limits: { wallTimeMs: 3000 },
      tests: [
        { stdin: "0.5\n", expectedOutput: "done\n" },
        { stdin: "0.5\n", expectedOutput: "done\n", limits: { wallTimeMs: 200 } },
      ],
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual(["accepted", "time_limit"]);
    expect(result.runs[1].stopReason).toBe("wall_time");
    expect(result.verdict).toBe("time_limit");
  });

  it("each test may name its own built-in checker: float with epsilons, yes_no, case_insensitive", async () => {
    const result = await runJob(service, {
      language: "python",
      source: "import sys\nprint(sys.stdin.read().strip())",
      compare: "exact",
      tests: [
        {
          stdin: "0.3333334",
          expectedOutput: "0.3333333",
          compare: { mode: "float", absoluteEpsilon: 1e-6, relativeEpsilon: 0 },
        },
        { stdin: "0.34", expectedOutput: "0.3333333", compare: { mode: "float", absoluteEpsilon: 1e-3 } },
        { stdin: "yes", expectedOutput: "YES", compare: "yes_no" },
        { stdin: "Hello World", expectedOutput: "hello world", compare: "case_insensitive" },
        { stdin: "Hello World", expectedOutput: "hello world" },
      ],
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "accepted",
      "wrong_answer",
      "accepted",
      "accepted",
      "wrong_answer",
    ]);
  });

  // A testlib-style checker in Python: argv = input, output, answer (read-only files).
  const floatChecker = [
    "import sys",
    "inp, out, ans = (open(p).read().split() for p in sys.argv[1:4])",
    "if len(out) != len(ans):",
    "    print('expected', len(ans), 'numbers, got', len(out), file=sys.stderr); sys.exit(1)",
    "for a, b in zip(out, ans):",
    "    if abs(float(a) - float(b)) > 1e-6:",
    "        print('expected', b, 'got', a, file=sys.stderr); sys.exit(1)",
    "print('ok', len(ans), 'numbers', file=sys.stderr)",
  ].join("\n");
  const echo = { language: "python", source: "import sys\nsys.stdout.write(sys.stdin.read())" };
  const verdicts = (result: { runs: { verdict: string }[] }) => result.runs.map((run) => run.verdict);

  it("a float checker accepts a 1e-7 difference and names the wrong number it refuses", async () => {
    const result = await runJob(service, {
      ...echo,
      checker: { language: "python", source: floatChecker },
      tests: [
        { stdin: "0.1000001 2", expectedOutput: "0.1 2" },
        { stdin: "0.1001 2", expectedOutput: "0.1 2" },
      ],
    });
    expect(verdicts(result)).toEqual(["accepted", "wrong_answer"]);
    expect(result.runs[0].checker).toMatchObject({ exitCode: 0, message: "ok 2 numbers\n" });
    expect(result.runs[1].checker.message).toBe("expected 0.1 got 0.1001\n");
    expect(result.runs.map((run: { score: number }) => run.score)).toEqual([1, 0]);
    expect(result.verdict).toBe("wrong_answer");
  });

  it("a checker that crashes is a checker_error, a judge failure the contestant is not blamed for", async () => {
    const result = await runJob(service, {
      ...echo,
      checker: {
        language: "c",
        source:
          '#include <stdio.h>\nint main(void){fputs("about to crash", stderr); *(volatile int *)0 = 1;}',
      },
      tests: [{ stdin: "1", expectedOutput: "1" }],
    });
    expect(verdicts(result)).toEqual(["checker_error"]);
    expect(result.runs[0].exitCode).toBe(0);
    expect(result.runs[0].checker).toMatchObject({ signal: "SIGSEGV", message: "about to crash" });
    expect(result.verdict).toBe("checker_error");
  });

  it("exit code 7 gives partial points from the message, and exit 2 is a presentation error", async () => {
    const checker = [
      "import sys",
      "out = open(sys.argv[2]).read().strip()",
      "if out == 'half': print('points 0.5 half right', file=sys.stderr); sys.exit(7)",
      "if out == 'bad': print('points 3 out of range', file=sys.stderr); sys.exit(7)",
      "sys.exit(2)",
    ].join("\n");
    const result = await runJob(service, {
      ...echo,
      checker: { language: "python", source: checker },
      tests: [
        { stdin: "half", expectedOutput: "" },
        { stdin: "bad", expectedOutput: "" },
        { stdin: "other", expectedOutput: "" },
      ],
    });
    expect(verdicts(result)).toEqual(["partial", "checker_error", "presentation_error"]);
    expect(result.runs[0].score).toBe(0.5);
    expect(result.verdict).toBe("checker_error");
  });

  it("a checker's huge message is capped; one flooding past its output limit is a checker_error", async () => {
    const result = await runJob(service, {
      ...echo,
      checker: {
        language: "python",
        source: "import sys\nn = int(open(sys.argv[1]).read())\nsys.stderr.write('x' * n)\nsys.exit(1)",
        limits: { outputBytes: 300_000 },
      },
      tests: [
        { stdin: "200000", expectedOutput: "" },
        { stdin: "50000000", expectedOutput: "" },
      ],
    });
    expect(verdicts(result)).toEqual(["wrong_answer", "checker_error"]);
    expect(result.runs[0].checker.message).toHaveLength(4096);
    expect(result.runs[0].checker.messageTruncated).toBe(true);
    expect(result.runs[1].checker).toMatchObject({ stopReason: "output", messageTruncated: true });
    expect(result.runs[1].checker.message.length).toBeLessThanOrEqual(4096);
  });

  it("a C checker is compiled once, sees read-only files, and cannot change them", async () => {
    const checker = [
      "#include <stdio.h>",
      "#include <string.h>",
      "int main(int argc, char **argv) {",
      "  if (argc != 4) return 3;",
      '  if (fopen(argv[3], "w") != NULL) { fputs("answer file is writable", stderr); return 3; }',
      "  char out[64] = {0}, ans[64] = {0};",
      '  FILE *o = fopen(argv[2], "r"), *a = fopen(argv[3], "r");',
      "  if (!o || !a) return 3;",
      "  fgets(out, sizeof out, o); fgets(ans, sizeof ans, a);",
      "  return strcmp(out, ans) == 0 ? 0 : 1;",
      "}",
    ].join("\n");
    const result = await runJob(service, {
      ...echo,
      checker: { language: "c", source: checker },
      tests: [
        { stdin: "42\n", expectedOutput: "42\n" },
        { stdin: "41\n", expectedOutput: "42\n" },
      ],
    });
    expect(result.checkerCompile.verdict).toBe("ok");
    expect(verdicts(result)).toEqual(["accepted", "wrong_answer"]);
  });

  it("a checker of several files judges the output.txt a file-I/O test writes, reading input.txt", async () => {
    const result = await runJob(service, {
      language: "python",
      source: "a, b = map(int, open('input.txt').read().split())\nopen('output.txt', 'w').write(str(a * b))",
      compareFile: "output.txt",
      checker: {
        language: "c",
        files: [
          { path: "lib/verdict.h", content: "enum { AC = 0, WA = 1 };\n" },
          {
            path: "main.c",
            content: [
              "#include <stdio.h>",
              '#include "lib/verdict.h"',
              "int main(int argc, char **argv) {",
              "  long a, b, out;",
              '  FILE *in = fopen(argv[1], "r"), *o = fopen(argv[2], "r");',
              '  if (fscanf(in, "%ld %ld", &a, &b) != 2) return 3;',
              '  if (fscanf(o, "%ld", &out) != 1) return WA;',
              '  fprintf(stderr, "%ld * %ld = %ld", a, b, out);',
              "  return out == a * b ? AC : WA;",
              "}",
            ].join("\n"),
          },
        ],
      },
      tests: [{ files: [{ path: "input.txt", content: "6 7" }], expectedOutput: "" }],
    });
    expect(verdicts(result)).toEqual(["accepted"]);
    expect(result.runs[0].checker.message).toBe("6 * 7 = 42");
  });

  it("a checker that does not compile fails the job as checker_error before any test runs", async () => {
    const result = await runJob(service, {
      ...echo,
      checker: { language: "c", source: "int main( {" },
      tests: [{ stdin: "1", expectedOutput: "1" }],
    });
    expect(result.verdict).toBe("checker_error");
    expect(result.checkerCompile.verdict).toBe("checker_error");
    expect(result.checkerCompile.stderr).toMatch(/error/);
    expect(result.runs).toEqual([]);
  });

  it("a checker in an unknown language, or without tests, is refused naming the field", async () => {
    const unknown = await service.post("/run", {
      ...echo,
      checker: { language: "klingon", source: "" },
      tests: [{ stdin: "", expectedOutput: "" }],
    });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error).toMatchObject({
      code: "E_UNKNOWN_LANGUAGE",
      details: { field: "checker.language" },
    });
    const noTests = await service.post("/run", { ...echo, checker: { language: "python", source: "" } });
    expect(noTests.status).toBe(400);
    expect((await noTests.json()).error.details).toEqual([{ field: "checker", message: expect.any(String) }]);
  });

  it("subtasks score points per group, and a group that stops at its first failure skips the rest", async () => {
    const result = await runJob(service, {
      language: "bash",
      source: "read n; echo $((n * 2))",
      tests: [
        { stdin: "1", expectedOutput: "2" },
        { stdin: "2", expectedOutput: "4" },
        { stdin: "3", expectedOutput: "7" },
        { stdin: "4", expectedOutput: "8" },
        { stdin: "5", expectedOutput: "10" },
      ],
      groups: [
        { name: "samples", points: 0, tests: [0] },
        { name: "small", points: 30, tests: [0, 1] },
        { name: "large", points: 70, tests: [2, 3, 4], stopAtFirstFailure: true },
      ],
    });
    expect(verdicts(result)).toEqual(["accepted", "accepted", "wrong_answer", "skipped", "skipped"]);
    expect(result.score).toEqual({
      points: 30,
      maxPoints: 100,
      groups: [
        { name: "samples", points: 0, maxPoints: 0, verdict: "accepted", tests: [0] },
        { name: "small", points: 30, maxPoints: 30, verdict: "accepted", tests: [0, 1] },
        { name: "large", points: 0, maxPoints: 70, verdict: "wrong_answer", tests: [2, 3, 4] },
      ],
    });
    expect(result.verdict).toBe("wrong_answer");
  });

  it("a group naming a test the job does not have is refused, naming the index", async () => {
    const response = await service.post("/run", {
      ...echo,
      tests: [{ expectedOutput: "" }],
      groups: [{ points: 1, tests: [0, 3] }],
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.details[0].field).toBe("groups.0.tests.1");
  });

  it("no work dir of a program, a checker or a test's checker files is left behind", async () => {
    expect(await workRootLeftovers(service)).toEqual([]);
  });
});
