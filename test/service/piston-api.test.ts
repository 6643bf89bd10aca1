import { piston } from "piston-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// The Piston v2 API through the whole service, driven by the real npm client `piston-client`
// (which posts its JSON as text/plain, picks versions by exact language name, sends args
// ["1","2","3"] and memory limits of -1) and by raw requests as the "I Run Code" Discord bot
// sends them to the old public prefix /api/v2/piston.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED piston service tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

const raw = (pathname: string, body: string, contentType = "application/json") =>
  fetch(`${service.api.url}${pathname}`, { method: "POST", headers: { "content-type": contentType }, body });

describe.skipIf(unavailable !== null)(
  `Piston API through the whole service ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "2" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("piston-client lists runtimes with real versions and aliases", async () => {
      const runtimes = await piston({ server: service.api.url }).runtimes();
      const python = runtimes.find((rt: { language: string }) => rt.language === "python");
      expect(python.version).toMatch(/^3\.\d+\.\d+$/);
      expect(python.aliases).toEqual(expect.arrayContaining(["py", "python3"]));
      const cpp = runtimes.find((rt: { language: string }) => rt.language === "c++");
      expect(cpp.aliases).toContain("cpp");
    });

    it("piston-client runs python, javascript and bash with stdin and its default args", async () => {
      const client = piston({ server: service.api.url });
      const python = await client.execute("python", "import sys\nprint(input(), sys.argv[1:])", {
        stdin: "hi",
      });
      expect(python.language).toBe("python");
      expect(python.version).toMatch(/^3\./);
      expect(python.run).toMatchObject({
        stdout: "hi ['1', '2', '3']\n",
        stderr: "",
        code: 0,
        signal: null,
        status: null,
      });
      expect(python.run.output).toBe(python.run.stdout);
      expect(python.run.wall_time).toBeGreaterThan(0);
      expect(python.run.memory).toBeGreaterThan(0);
      expect(typeof python.run.cpu_time).toBe("number");
      expect(python.compile).toBeUndefined();

      const js = await client.execute("javascript", "console.log(process.argv.slice(2).join('+'))");
      expect(js.run.stdout).toBe("1+2+3\n");
      const bash = await client.execute("bash", 'echo "$#" >&2; exit 4');
      expect(bash.run).toMatchObject({ stderr: "3\n", code: 4, status: "RE", signal: null });
    });

    it("piston-client compiles C: a compile stage, and after a compile error run repeats it", async () => {
      const client = piston({ server: service.api.url });
      const ok = await client.execute(
        "c",
        '#include <stdio.h>\nint main(int c, char **v){printf("%d\\n", c);}',
      );
      expect(ok.compile).toMatchObject({ code: 0, status: null });
      expect(ok.run.stdout).toBe("4\n");
      const broken = await client.execute("c", "int main( {");
      expect(broken.compile.code).not.toBe(0);
      expect(broken.compile.stderr).toMatch(/error/);
      expect(broken.compile.status).toBe("RE");
      expect(broken.run).toEqual(broken.compile);
    });

    it("piston-client gets Piston's message for an unknown runtime", async () => {
      const answer = await piston({ server: service.api.url }).execute("no-such-language", "x");
      expect(answer).toEqual({ message: "no-such-language-* runtime is unknown" });
    });

    it("the Discord bot's request: an alias on /api/v2/piston, version ranges resolved with semver", async () => {
      const response = await raw(
        "/api/v2/piston/execute",
        JSON.stringify({
          language: "py",
          version: "3.x",
          files: [{ content: "print(6*7)" }],
          args: [],
          stdin: "",
          log: 0,
        }),
      );
      expect(response.status).toBe(200);
      expect((await response.json()).run.output).toBe("42\n");
      const tooNew = await raw(
        "/api/v2/execute",
        JSON.stringify({ language: "py", version: ">=99", files: [{ content: "" }] }),
      );
      expect(tooNew.status).toBe(400);
      expect((await tooNew.json()).message).toBe("py->=99 runtime is unknown");
    });

    it("signals and limits: SIGKILL is a signal name, a timeout is TO with SIGKILL", async () => {
      const client = piston({ server: service.api.url });
      const killed = await client.execute(
        "python",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
      );
      expect(killed.run).toMatchObject({ signal: "SIGKILL", status: "SG", code: null });
      const slow = await client.execute("python", "while True: pass", { runTimeout: 500 });
      expect(slow.run).toMatchObject({ signal: "SIGKILL", status: "TO", code: null });
    });

    it("a run over run_memory_limit is killed: SG, SIGKILL, and the message says why", async () => {
      const answer = await piston({ server: service.api.url }).execute(
        "python",
        "x = bytearray(256 * 1024 * 1024)\nprint(len(x))",
        { runMemoryLimit: 64 * 1024 * 1024 },
      );
      expect(answer.run).toMatchObject({
        status: "SG",
        signal: "SIGKILL",
        code: null,
        message: "Memory limit exceeded",
      });
      expect(answer.run.memory).toBeLessThanOrEqual(64 * 1024 * 1024 + 1024 * 1024);
    });

    it("bad input gets Piston's 400 {message}, in Piston's order", async () => {
      const cases: [unknown, string][] = [
        [{}, "language is required as a string"],
        [{ language: "python", version: 3 }, "version is required as a string"],
        [{ language: "python", version: "*" }, "files is required as an array"],
        [
          { language: "python", version: "*", files: [{ content: 1 }] },
          "files[0].content is required as a string",
        ],
        [
          { language: "python", version: "*", files: [{ content: "AA==", encoding: "base64" }] },
          "files must include at least one utf8 encoded file",
        ],
        [{ language: "python", files: [{ content: "" }], run_timeout: "x" }, "run_timeout must be a number"],
        [
          { language: "python", files: [{ content: "" }], run_timeout: -5 },
          "run_timeout must be non-negative",
        ],
        [
          { language: "python", files: [{ content: "" }], run_timeout: 10 ** 9 },
          `run_timeout cannot exceed the configured limit of ${service.config.limits.ceilings.wallTimeMs}`,
        ],
        [
          { language: "python", files: [{ content: "" }, { name: "../x", content: "" }] },
          "files[1].name must be a relative path of plain segments (letters, digits, . _ + -)",
        ],
        [[1, 2], "language is required as a string"],
      ];
      for (const [body, message] of cases) {
        const response = await raw("/api/v2/execute", JSON.stringify(body), "text/plain");
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(await response.json(), JSON.stringify(body)).toEqual({ message });
      }
      const notJson = await raw("/api/v2/execute", "{nope", "text/plain");
      expect(notJson.status).toBe(400);
      expect((await notJson.json()).message).toMatch(/^request body is not valid JSON/);
      const missing = await fetch(`${service.api.url}/api/v2/nothing-here`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ message: "Not Found" });
    });

    it("packages: the installed runtimes, and install/uninstall answer honestly", async () => {
      const packages = await (await fetch(`${service.api.url}/api/v2/packages`)).json();
      expect(packages).toContainEqual(expect.objectContaining({ language: "python", installed: true }));
      const install = await raw("/api/v2/packages", JSON.stringify({ language: "python", version: "*" }));
      expect(install.status).toBe(400);
      expect((await install.json()).message).toMatch(
        /already installed; language images are built on the server with `npm run images:build`/,
      );
      const remove = await fetch(`${service.api.url}/api/v2/packages`, { method: "DELETE", body: "{}" });
      expect(remove.status).toBe(400);
      expect((await remove.json()).message).toMatch(/cannot be uninstalled/);
    });
  },
);
