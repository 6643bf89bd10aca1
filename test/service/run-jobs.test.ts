import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService, waitForStatus } from "../helpers/service.ts";

// Jobs end to end through HTTP, a real queue, a real worker and the real sandbox.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED service job tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

const hello: Record<string, string> = {
  python: 'print("hello, world")\n',
  c: '#include <stdio.h>\nint main(void){puts("hello, world");return 0;}\n',
  cpp: '#include <iostream>\nint main(){std::cout<<"hello, world"<<std::endl;}\n',
  javascript: 'console.log("hello, world");\n',
  bash: 'echo "hello, world"\n',
};

describe.skipIf(unavailable !== null)(
  `jobs through the whole service ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "2" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    for (const [language, source] of Object.entries(hello)) {
      it(`${language} hello world runs and prints its greeting`, async () => {
        const result = await runJob(service, { language, source });
        expect(result.verdict, JSON.stringify(result)).toBe("ok");
        expect(result.status).toBe("completed");
        expect(result.runs).toHaveLength(1);
        expect(result.runs[0].stdout).toBe("hello, world\n");
        expect(result.runs[0].exitCode).toBe(0);
        expect(result.runs[0].usage.wallTimeMs).toBeGreaterThan(0);
        if (language === "c" || language === "cpp") expect(result.compile.verdict).toBe("ok");
        else expect(result.compile).toBeNull();
      });
    }

    it("GET /languages reports the versions read from the image, and /readyz is ready", async () => {
      const languages = await (await service.get("/languages")).json();
      for (const language of languages) expect(language.version, language.id).toMatch(/\d/);
      expect((await service.get("/readyz")).status).toBe(200);
    });

    it("stdin reaches the program", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "print(input()[::-1])",
        stdin: "abc\n",
      });
      expect(result.runs[0].stdout).toBe("cba\n");
    });

    it("args are appended to the run command", async () => {
      const result = await runJob(service, {
        language: "bash",
        source: 'echo "$#:$1:$2"',
        args: ["a b", "c"],
      });
      expect(result.runs[0].stdout).toBe("2:a b:c\n");
    });

    it("several files, one base64-encoded, are written into the work dir", async () => {
      const result = await runJob(service, {
        language: "python",
        files: [
          { path: "main.py", content: "from lib.helper import greet\nprint(greet())" },
          {
            path: "lib/helper.py",
            content: Buffer.from("def greet():\n    return 'hi'\n").toString("base64"),
            encoding: "base64",
          },
        ],
      });
      expect(result.runs[0].stdout).toBe("hi\n");
    });

    it("a compile error stops the job with the compiler's output and no runs", async () => {
      const result = await runJob(service, { language: "c", source: "int main(void){ return nope; }\n" });
      expect(result.verdict).toBe("compile_error");
      expect(result.compile.verdict).toBe("compile_error");
      expect(result.compile.stderr).toContain("nope");
      expect(result.runs).toEqual([]);
    });

    it("a non-zero exit is a runtime error with its exit code", async () => {
      const result = await runJob(service, { language: "python", source: "import sys\nsys.exit(3)" });
      expect(result.verdict).toBe("runtime_error");
      expect(result.runs[0].exitCode).toBe(3);
      expect(result.runs[0].signal).toBeNull();
    });

    it("a program killed by a signal is a runtime error naming the signal", async () => {
      const source = "#include <signal.h>\nint main(void){ raise(SIGSEGV); return 0; }\n";
      const result = await runJob(service, { language: "c", source });
      expect(result.verdict).toBe("runtime_error");
      expect(result.runs[0].signal).toBe("SIGSEGV");
      expect(result.runs[0].exitCode).toBeNull();
    });

    it("an endless loop stops at the CPU limit with a time_limit verdict", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "while True:\n    pass\n",
        limits: { cpuTimeMs: 500, wallTimeMs: 10_000 },
      });
      expect(result.verdict).toBe("time_limit");
      expect(result.runs[0].stopReason).toBe("cpu_time");
    });

    it("a sleeping program stops at the wall-time limit with a time_limit verdict", async () => {
      const result = await runJob(service, {
        language: "bash",
        source: "sleep 30",
        limits: { wallTimeMs: 500 },
      });
      expect(result.verdict).toBe("time_limit");
      expect(result.runs[0].stopReason).toBe("wall_time");
    });

    it("a flood of output stops at the output limit and keeps the truncated output", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "while True:\n    print('x' * 999)\n",
        limits: { outputBytes: 4096 },
      });
      expect(result.verdict).toBe("output_limit");
      expect(result.runs[0].stdoutTruncated).toBe(true);
      expect(result.runs[0].stdout.length).toBeGreaterThan(0);
      expect(result.runs[0].stdout.length).toBeLessThanOrEqual(4096);
    });

    it("with tests, the program compiles once and every test gets its verdict", async () => {
      const source =
        '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b==5?6:a+b);}\n';
      const result = await runJob(service, {
        language: "c",
        source,
        tests: [
          { stdin: "1 2\n", expectedOutput: "3\n" },
          { stdin: "2 3\n", expectedOutput: "5\n" },
          { stdin: "10 20\n", expectedOutput: "30\n" },
        ],
      });
      expect(result.compile.verdict).toBe("ok");
      expect(result.runs.map((r: { verdict: string }) => r.verdict)).toEqual([
        "accepted",
        "wrong_answer",
        "accepted",
      ]);
      expect(result.verdict).toBe("wrong_answer");
    });

    it("a program passing every test is accepted", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "a, b = map(int, input().split())\nprint(a + b)\n",
        tests: [
          { stdin: "1 2\n", expectedOutput: "3" },
          { stdin: "4 5\n", expectedOutput: "9\n" },
        ],
      });
      expect(result.verdict).toBe("accepted");
      expect(result.runs).toHaveLength(2);
    });

    const compareCases: [string, string, string, string][] = [
      ["exact", "printf '3\\n'", "3\n", "3"],
      ["trim", "printf '1 2   \\n3\\n\\n'", "1 2\n3\n", "1  2\n3\n"],
      ["tokens", "printf '1\\n2   3'", "1 2 3\n", "1 2 3 4"],
      ["float", "printf '0.3333333 x'", "0.333333333 x", "0.34 x"],
    ];
    for (const [compare, source, matching, different] of compareCases) {
      it(`compare mode ${compare} accepts equivalent output and rejects different output`, async () => {
        const result = await runJob(service, {
          language: "bash",
          source,
          compare: compare as "exact",
          tests: [
            { stdin: "", expectedOutput: matching },
            { stdin: "", expectedOutput: different },
          ],
        });
        expect(result.runs.map((r: { verdict: string }) => r.verdict)).toEqual(["accepted", "wrong_answer"]);
      });
    }

    it("a run step cannot change the work dir, so tests cannot leak state to each other", async () => {
      const result = await runJob(service, {
        language: "bash",
        source: "echo x > /box/state 2>/dev/null && echo wrote || echo read-only",
      });
      expect(result.runs[0].stdout).toBe("read-only\n");
    });

    it("POST /jobs then GET /jobs/:id returns the completed result", async () => {
      const { id } = await (await service.post("/jobs", { language: "bash", source: "echo queued" })).json();
      const run = await (await service.post(`/run?waitMs=0`, { language: "bash", source: "true" })).json();
      expect(run.id).toBeDefined();
      const view = await waitForStatus(service, id, ["completed", "failed", "cancelled"]);
      expect(view.status).toBe("completed");
      expect(view.result.runs[0].stdout).toBe("queued\n");
    });
  },
);
