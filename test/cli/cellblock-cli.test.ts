import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../architecture/import-graph.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// The `cellblock` command, run as a user runs it (node bin/cellblock.mjs, a child process) against
// a real service with API keys on: a python file with a folder of tests, plain runs, limits,
// languages, jobs get/cancel, a batch folder, and bad input answered with exit code 2 and a
// message naming what was wrong.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED CLI tests against a running service: ${unavailable}`);

const KEY = "cli-test-key-0123456789";
const BIN = path.join(repoRoot, "bin/cellblock.mjs");
let redis: TestRedis;
let service: TestService;
let dir: string;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cellblock(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", CELLBLOCK_URL: service.api.url, CELLBLOCK_API_KEY: KEY, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function write(relative: string, content: string): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

describe.skipIf(unavailable !== null)("the cellblock command against a running service", () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({
      redisUrl: redis.url,
      worker: true,
      env: { WORKER_SLOTS: "2", API_KEYS: KEY },
    });
    dir = await mkdtemp(path.join(os.tmpdir(), "cellblock-cli-test-"));
    await write("main.py", "a, b = map(int, input().split())\nprint(a + b)\n");
    await write("tests/1.in", "1 2\n");
    await write("tests/1.out", "3\n");
    await write("tests/2.in", "2 2\n");
    await write("tests/2.out", "4\n");
    await write("tests/10.in", "40 2\n");
    await write("tests/10.ans", "42\n");
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("runs a python file with a folder of tests and prints a verdict and usage per test, in order", async () => {
    const { code, stdout, stderr } = await cellblock(["run", "main.py", "--tests", "tests"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe("python: accepted (3/3 tests passed)");
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3).join(" "))).toEqual([
      "test 1 accepted",
      "test 2 accepted",
      "test 10 accepted",
    ]);
    expect(lines[1]).toMatch(/exit 0 {2}[\d.]+ ms cpu {2}[\d.]+ ms wall {2}[\d.]+ (KiB|MiB)$/);
    console.log(stdout); // what a person sees, kept in the test log
  });

  it("a wrong answer exits 1 and says where the output first differs", async () => {
    await write("wrong/1.in", "2 2\n");
    await write("wrong/1.out", "5\n");
    const { code, stdout } = await cellblock(["run", "main.py", "--tests", "wrong", "--lang", "python"]);
    expect(code).toBe(1);
    expect(stdout).toContain("python: wrong_answer (0/1 tests passed)");
    expect(stdout).toContain('line 1: expected "5", got "4"');
  });

  it("a hostile program's output reaches the grader's terminal as text, never as control codes", async () => {
    // OSC 52 would write the grader's clipboard; CSI moves the cursor over earlier verdicts.
    await write(
      "hostile.py",
      "import sys\nprint('\\x1b[2J\\x1b]52;c;aGk=\\x07\\u009b1A')\nsys.stderr.write('\\x1b]0;pwned\\x07')\nsys.exit(3)\n",
    );
    const { code, stdout } = await cellblock(["run", "hostile.py", "--tests", "tests"]);
    expect(code).toBe(1);
    expect(stdout).toContain("runtime_error");
    expect(stdout).toContain("\\x1b]0;pwned\\x07");
    await write("hostile-answer.py", "print('\\x1b]52;c;aGk=\\x07\\u009b1A')\n");
    const answered = await cellblock(["run", "hostile-answer.py", "--tests", "tests"]);
    expect(answered.stdout).toContain("wrong_answer");
    expect(answered.stdout).toContain("\\x9b1A");
    for (const text of [stdout, answered.stdout]) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
  });

  it("a plain run prints the program's output as it wrote it; --json prints the service's result", async () => {
    await write("echo.py", "import sys\nprint(input().upper())\nprint('warn', file=sys.stderr)\n");
    await write("input.txt", "shout\n");
    const plain = await cellblock(["run", "echo.py", "--stdin", "input.txt"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe("SHOUT\n");
    expect(plain.stderr).toMatch(/^warn\npython: ok {2}exit 0 /);
    const json = await cellblock(["run", "echo.py", "--stdin", "input.txt", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "completed", verdict: "ok", language: "python" });
  });

  it("--limits reaches the job: memory above the limit is memory_limit, and the exit code says it failed", async () => {
    await write("hog.py", "x = bytearray(200 * 1024 * 1024)\nprint(len(x))\n");
    const { code, stderr } = await cellblock(["run", "hog.py", "--limits", "memory=64M,wall=10s"]);
    expect(code).toBe(1);
    expect(stderr).toContain("python: memory_limit");
  });

  it("languages lists what the service runs; jobs get and jobs cancel act on a job by id", async () => {
    const languages = await cellblock(["languages"]);
    expect(languages.code).toBe(0);
    expect(languages.stdout).toMatch(/^python\s+Python 3/m);
    const listed = await cellblock(["languages", "--json"]);
    expect(JSON.parse(listed.stdout).map((l: { id: string }) => l.id)).toContain("bash");

    const submitted = await service.post(
      "/jobs",
      { language: "bash", source: "sleep 30" },
      { authorization: `Bearer ${KEY}` },
    );
    const { id } = (await submitted.json()) as { id: string };
    const cancelled = await cellblock(["jobs", "cancel", id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`job ${id}: cancelled`);
    const got = await cellblock(["jobs", "get", id, "--json"]);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, status: "cancelled" });
    expect(got.code).toBe(1);
  });

  it("batch runs every file of a folder against the tests and prints a line per file and a summary", async () => {
    await write("subs/alice.py", "a, b = map(int, input().split())\nprint(a + b)\n");
    await write("subs/bob.py", "a, b = map(int, input().split())\nprint(a * b)\n");
    await write("subs/carol.py", "print(\n");
    const { code, stdout } = await cellblock(["batch", "subs", "--tests", "tests"]);
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^alice\.py\s+accepted \(3\/3\)/);
    expect(lines[1]).toMatch(/^bob\.py\s+wrong_answer \(1\/3\)/);
    expect(lines[2]).toMatch(/^carol\.py\s+runtime_error \(0\/3\)/);
    expect(lines.at(-1)).toMatch(
      /^batch [0-9a-f-]{36}: 3 jobs: 1 accepted, 1 wrong_answer, 1 runtime_error$/,
    );
  });

  it("reads the key from --key as well as CELLBLOCK_API_KEY, and without one says the service refused", async () => {
    const flagged = await cellblock(["--key", KEY, "languages"], { CELLBLOCK_API_KEY: "" });
    expect(flagged.code).toBe(0);
    const keyless = await cellblock(["languages"], { CELLBLOCK_API_KEY: "" });
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain("E_UNAUTHORIZED");
  });

  it("bad input exits 2 with a message naming what was wrong", async () => {
    const cases: [string[], string][] = [
      [["run", "main.py", "--lang", "cobolt"], 'E_UNKNOWN_LANGUAGE: language: unknown language "cobolt"'],
      [["run", "main.py", "--limits", "cpu=fast"], "--limits cpuTimeMs"],
      [["run", "main.py", "--limits", "speed=1"], '--limits: "speed=1"'],
      [["run", "main.py", "--compare", "fuzzy"], "--compare"],
      [["run", "missing.py"], "missing.py: ENOENT"],
      [["run", "notes.xyz"], 'cannot tell the language from ".xyz"; pass --lang'],
      [["run", "main.py", "--tests", "orphans"], "2.out without a matching .in"],
      [["run", "main.py", "--limits", "cpu=999999s"], "E_LIMIT_ABOVE_CEILING"],
      [["jobs", "get", "no-such-job"], "E_JOB_NOT_FOUND"],
      [["frobnicate"], "unknown command 'frobnicate'"],
    ];
    await write("notes.xyz", "hello\n");
    await write("orphans/1.in", "1\n");
    await write("orphans/1.out", "1\n");
    await write("orphans/2.out", "2\n");
    for (const [args, message] of cases) {
      const { code, stderr } = await cellblock(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr, args.join(" ")).toContain(message);
    }
  });
});
