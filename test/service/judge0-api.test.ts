import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";
import { writeZip } from "../helpers/zip-writer.ts";

// The Judge0 CE API at /judge0 through the whole service (real queue, worker, sandbox), replaying
// what its real clients send and asserting every field they read: the Judge0 IDE (base64 polling,
// CORS), the official Python SDK (languages + all 39 config_info keys, base64 submit, fields=*
// polling, strict timestamps, batches), and LeetCode-style `wait=true` callers.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED judge0 service tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
/** What clients do with Judge0's wrapped base64: drop the newlines, decode. */
const unb64 = (text: string | null) =>
  text === null ? null : Buffer.from(text.replace(/\n/g, ""), "base64").toString("utf8");
/** The Python SDK parses timestamps with "%Y-%m-%dT%H:%M:%S.%fZ". */
const STRICT_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function poll(token: string, query: string) {
  return eventually(async () => (await service.get(`/judge0/submissions/${token}?${query}`)).json(), {
    until: (body) => body.status.id > 2,
    timeoutMs: 60_000,
    what: `submission ${token} finished`,
  });
}

describe.skipIf(unavailable !== null)(
  `Judge0 API through the whole service ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      // Callbacks go to a receiver on loopback, which the SSRF policy denies unless opened.
      service = await startTestService({
        redisUrl: redis.url,
        worker: true,
        env: { WORKER_SLOTS: "2", WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8" },
      });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("the Judge0 IDE's sequence: languages, base64 submit, 100 ms polling, CORS", async () => {
      const preflight = await fetch(`${service.api.url}/judge0/submissions`, {
        method: "OPTIONS",
        headers: {
          origin: "https://ide.judge0.com",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");

      const languages = await (await service.get("/judge0/languages")).json();
      const python = languages.find((l: { id: number }) => l.id === 71);
      expect(python.name).toMatch(/^Python 3 \(\d+\.\d+\.\d+\)$/);
      const detail = await (await service.get("/judge0/languages/71")).json();
      expect(detail).toMatchObject({ id: 71, is_archived: false, source_file: "main.py", compile_cmd: null });
      expect(detail.run_cmd).toContain("main.py");

      const created = await service.post(
        "/judge0/submissions?base64_encoded=true&wait=false",
        {
          source_code: b64(
            "import sys\nname = input()\nprint('hello, ' + name)\nprint('warn', file=sys.stderr)\n",
          ),
          language_id: 71,
          stdin: b64("world\n"),
          compiler_options: "",
          command_line_arguments: "",
          redirect_stderr_to_stdout: true,
        },
        { origin: "https://ide.judge0.com" },
      );
      expect(created.status).toBe(201);
      expect(created.headers.get("access-control-allow-origin")).toBe("*");
      const { token } = await created.json();
      expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      const result = await poll(token, "base64_encoded=true");
      expect(Object.keys(result).sort()).toEqual(
        ["compile_output", "memory", "message", "status", "stderr", "stdout", "time", "token"].sort(),
      );
      expect(result.status).toEqual({ id: 3, description: "Accepted" });
      expect(result.stdout.endsWith("\n")).toBe(true);
      expect(unb64(result.stdout)).toBe("hello, world\nwarn\n");
      expect(result.stderr).toBeNull();
      expect(result.compile_output).toBeNull();
      expect(result.time).toMatch(/^\d+\.\d{3}$/);
      expect(Number.isInteger(result.memory)).toBe(true);
      expect(result.memory).toBeGreaterThan(0);
    });

    it("base64 answers are wrapped every 60 characters, and wrapped input is decoded", async () => {
      const long = "x".repeat(100);
      const wrapped = b64(`print("${long}")\n`).replace(/(.{60})/g, "$1\n");
      const created = await service.post("/judge0/submissions?base64_encoded=true&wait=true", {
        source_code: wrapped,
        language_id: 71,
      });
      expect(created.status).toBe(201);
      const body = await created.json();
      const lines = body.stdout.split("\n");
      expect(lines.at(-1)).toBe("");
      for (const line of lines.slice(0, -2)) expect(line).toHaveLength(60);
      expect(unb64(body.stdout)).toBe(`${long}\n`);
    });

    it("the Python SDK's sequence: client construction, submit, fields=* polling, batch", async () => {
      const languages = await (await service.get("/judge0/languages")).json();
      for (const id of [71, 109, 50, 54, 63])
        expect(languages.map((l: { id: number }) => l.id)).toContain(id);
      const config = await (await service.get("/judge0/config_info")).json();
      expect(Object.keys(config)).toHaveLength(39);
      expect(config.enable_compiler_options).toBe(false);
      expect(config.allowed_languages_for_compile_options).toEqual([]);
      expect(typeof config.max_cpu_time_limit).toBe("number");
      expect((await (await service.get("/judge0/about")).json()).version).toBe("1.13.1");

      const created = await service.post("/judge0/submissions?base64_encoded=true&wait=false", {
        source_code: b64("print(int(input()) * 2)\n"),
        language_id: 109,
        stdin: b64("21\n"),
        expected_output: b64("42\n"),
      });
      const { token } = await created.json();
      const full = await poll(token, "base64_encoded=true&fields=*");
      expect(full.token).toBe(token);
      expect(full.status_id).toBe(3);
      expect(full.language_id).toBe(109);
      expect(full.language.id).toBe(109);
      expect(full.language.name).toMatch(/^Python/);
      expect(unb64(full.source_code)).toBe("print(int(input()) * 2)\n");
      expect(unb64(full.stdin)).toBe("21\n");
      expect(unb64(full.expected_output)).toBe("42\n");
      expect(unb64(full.stdout)).toBe("42\n");
      expect(full.created_at).toMatch(STRICT_TIMESTAMP);
      expect(full.finished_at).toMatch(STRICT_TIMESTAMP);
      expect(full.exit_code).toBe(0);
      expect(full.exit_signal).toBeNull();
      expect(full.wall_time).toMatch(/^\d+\.\d{3}$/);
      expect(full.number_of_runs).toBe(1);
      expect(full.cpu_time_limit).toMatch(/^\d+\.\d+$/);
      expect(typeof full.memory_limit).toBe("number");
      expect(full.redirect_stderr_to_stdout).toBe(false);

      const batch = await service.post("/judge0/submissions/batch?base64_encoded=true", {
        submissions: [
          { source_code: b64("print(1)"), language_id: 71 },
          { source_code: b64("print(2)"), language_id: 99999 },
          { source_code: b64('console.log("three")'), language_id: 63 },
        ],
      });
      expect(batch.status).toBe(201);
      const items = await batch.json();
      expect(items[0].token).toBeTypeOf("string");
      expect(items[1]).toEqual({ language_id: ["language with id 99999 doesn't exist"] });
      const tokens = [items[0].token, "00000000-0000-4000-8000-000000000000", items[2].token];
      const all = await eventually(
        async () =>
          (
            await service.get(
              `/judge0/submissions/batch?tokens=${tokens.join(",")}&base64_encoded=true&fields=*`,
            )
          ).json(),
        {
          until: (body) => body.submissions[0]?.status.id > 2 && body.submissions[2]?.status.id > 2,
          timeoutMs: 60_000,
          what: "batch finished",
        },
      );
      expect(all.submissions[1]).toBeNull();
      expect(unb64(all.submissions[0].stdout)).toBe("1\n");
      expect(unb64(all.submissions[2].stdout)).toBe("three\n");
    });

    it("wait=true answers the result at once, with the fields asked for", async () => {
      const response = await service.post(
        "/judge0/submissions?wait=true&fields=stdout,status_id,time,exit_code",
        {
          source_code: "print(sum(map(int, input().split())))",
          language_id: "71",
          stdin: "2 3",
          expected_output: "5",
        },
      );
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(Object.keys(body).sort()).toEqual(["exit_code", "status_id", "stdout", "time"]);
      expect(body).toMatchObject({ stdout: "5\n", status_id: 3, exit_code: 0 });
    });

    it("statuses: wrong answer, compile error, runtime errors by signal and exit, time limit", async () => {
      const run = async (body: Record<string, unknown>) =>
        (await service.post("/judge0/submissions?wait=true&fields=*", body)).json();
      const wrong = await run({ source_code: "print(4)", language_id: 71, expected_output: "5" });
      expect(wrong.status).toEqual({ id: 4, description: "Wrong Answer" });
      const compile = await run({ source_code: "int main( { return 0; }", language_id: 50 });
      expect(compile.status.id).toBe(6);
      expect(compile.compile_output).toMatch(/error/);
      expect(compile.stdout).toBeNull();
      expect(compile.time).toBeNull();
      const segv = await run({
        source_code: "int main(void){ *(volatile int*)0 = 1; return 0; }",
        language_id: 50,
      });
      expect(segv.status).toEqual({ id: 7, description: "Runtime Error (SIGSEGV)" });
      expect(segv.exit_signal).toBe(11);
      const nzec = await run({ source_code: "import sys; sys.exit(3)", language_id: 71 });
      expect(nzec.status).toEqual({ id: 11, description: "Runtime Error (NZEC)" });
      expect(nzec.exit_code).toBe(3);
      const slow = await run({ source_code: "while True: pass", language_id: 71, cpu_time_limit: 0.5 });
      expect(slow.status).toEqual({ id: 5, description: "Time Limit Exceeded" });
      expect(slow.cpu_time_limit).toBe("0.5");
    });

    it("our memory-limit outcome is Judge0's 12 with its message, and memory is the run's peak in KB", async () => {
      const response = await service.post(
        "/judge0/submissions?wait=true&fields=status,message,memory,memory_limit",
        {
          source_code: "x = bytearray(256 * 1024 * 1024)\nprint(len(x))",
          language_id: 71,
          memory_limit: 65536,
        },
      );
      const body = await response.json();
      expect(body.status).toEqual({ id: 12, description: "Runtime Error (Other)" });
      expect(body.message).toBe("Memory limit exceeded");
      expect(body.memory_limit).toBe(65536);
      expect(body.memory).toBeGreaterThan(0);
      expect(body.memory).toBeLessThanOrEqual(65536 + 1024);
    });

    it("number_of_runs runs several times and averages; command_line_arguments split without a shell", async () => {
      const response = await service.post(
        "/judge0/submissions?wait=true&fields=stdout,number_of_runs,status",
        {
          source_code: "import sys\nprint(sys.argv[1:])",
          language_id: 71,
          number_of_runs: 3,
          command_line_arguments: `a "b c" 'd;e' $(whoami) \`id\``,
        },
      );
      const body = await response.json();
      expect(body.status.id).toBe(3);
      expect(body.number_of_runs).toBe(3);
      expect(body.stdout).toBe("['a', 'b c', 'de', '(whoami)', 'id']\n");
    });

    it("list and delete are scoped to the caller and follow Judge0's rules", async () => {
      const created = await service.post("/judge0/submissions?wait=true", {
        source_code: "print(7)",
        language_id: 71,
      });
      const { token } = await created.json();
      const list = await (await service.get("/judge0/submissions?per_page=2")).json();
      expect(list.submissions).toHaveLength(2);
      expect(list.meta).toMatchObject({ current_page: 1, prev_page: null });
      expect(list.meta.total_count).toBeGreaterThanOrEqual(2);
      const deleted = await service.del(`/judge0/submissions/${token}`);
      expect(deleted.status).toBe(200);
      expect(unb64((await deleted.json()).stdout)).toBe("7\n");
      expect((await service.get(`/judge0/submissions/${token}`)).status).toBe(404);

      const queued = await service.post("/judge0/submissions", {
        source_code: "import time; time.sleep(3)",
        language_id: 71,
      });
      const pending = await service.del(`/judge0/submissions/${(await queued.json()).token}`);
      expect(pending.status).toBe(400);
      expect((await pending.json()).error).toMatch(
        /^submission cannot be deleted because its status is [12] \(/,
      );
    });

    it("additional_files are unpacked beside the source before it runs", async () => {
      const zip = writeZip([
        { name: "lib/", mode: 0o040755 },
        { name: "lib/__init__.py", data: "" },
        { name: "lib/greet.py", data: "def greet(n):\n    return 'hi ' + n\n", deflate: true },
        { name: "data.txt", data: "from the zip\n" },
      ]);
      const response = await service.post("/judge0/submissions?wait=true&fields=stdout,status", {
        source_code: "from lib.greet import greet\nprint(greet(open('data.txt').read().strip()))",
        language_id: 71,
        additional_files: zip.toString("base64"),
      });
      const body = await response.json();
      expect(body).toEqual({ stdout: "hi from the zip\n", status: { id: 3, description: "Accepted" } });
    });

    it("callback_url gets a PUT with the default fields base64-encoded when the submission ends", async () => {
      const received: { method?: string; body: string }[] = [];
      const receiver = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => {
          body += chunk;
        });
        req.on("end", () => {
          received.push({ method: req.method, body });
          res.end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = receiver.address() as AddressInfo;
        const created = await service.post("/judge0/submissions", {
          source_code: "print('called back')",
          language_id: 71,
          callback_url: `http://127.0.0.1:${port}/judge0-hook`,
        });
        const { token } = await created.json();
        const [delivery] = await eventually(async () => received, {
          until: (list) => list.length > 0,
          timeoutMs: 60_000,
          what: "judge0 callback",
        });
        expect(delivery?.method).toBe("PUT");
        const payload = JSON.parse(delivery?.body ?? "{}");
        expect(Object.keys(payload).sort()).toEqual(
          ["compile_output", "memory", "message", "status", "stderr", "stdout", "time", "token"].sort(),
        );
        expect(payload.token).toBe(token);
        expect(payload.status.id).toBe(3);
        expect(unb64(payload.stdout)).toBe("called back\n");
      } finally {
        await new Promise<void>((resolve) => receiver.close(() => resolve()));
      }
    });
  },
);
