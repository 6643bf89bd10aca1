import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// Piston's WebSocket protocol (/api/v2/connect) driven message by message with the ws client:
// runtime, stage, data, exit, every close code, and what Piston's own gets wrong (signals, closing
// stdin, the output cap).

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED Piston connect tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

type Message = Record<string, unknown> & { type: string };

async function connect(path = "/api/v2/connect") {
  const ws = new WebSocket(`${service.api.url.replace("http", "ws")}${path}`);
  const messages: Message[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const text = (stream: string) =>
    messages
      .filter((m) => m.type === "data" && m.stream === stream)
      .map((m) => m.data)
      .join("");
  return { ws, messages, closed, send: (m: unknown) => ws.send(JSON.stringify(m)), text };
}

const init = (language: string, content: string, extra: Record<string, unknown> = {}) => ({
  type: "init",
  language,
  version: "*",
  files: [{ content }],
  ...extra,
});

describe.skipIf(unavailable !== null)(
  `Piston's /api/v2/connect ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({ redisUrl: redis.url, worker: true, env: { WORKER_SLOTS: "2" } });
    });

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("runs a program: runtime, stage, data, exit, then close 4999", async () => {
      const client = await connect();
      client.send(init("bash", 'echo "hi $1"; echo err >&2', { args: ["there"] }));
      expect((await client.closed).code).toBe(4999);
      const types = client.messages.map((m) => m.type);
      expect(types[0]).toBe("runtime");
      expect(client.messages[0]?.language).toBe("bash");
      expect(types[1]).toBe("stage");
      expect(client.messages[1]?.stage).toBe("run");
      expect(client.text("stdout")).toBe("hi there\n");
      expect(client.text("stderr")).toBe("err\n");
      expect(client.messages.at(-1)).toEqual({ type: "exit", stage: "run", code: 0, signal: null });
    });

    it("a compiled language reports its compile stage and exit before the run (also under /api/v2/piston/)", async () => {
      const client = await connect("/api/v2/piston/connect");
      client.send(init("c", '#include <stdio.h>\nint main(void){puts("compiled");return 3;}\n'));
      expect((await client.closed).code).toBe(4999);
      const stages = client.messages
        .filter((m) => m.type === "stage" || m.type === "exit")
        .map((m) => `${m.type}:${m.stage}`);
      expect(stages).toEqual(["stage:compile", "exit:compile", "stage:run", "exit:run"]);
      expect(client.text("stdout")).toBe("compiled\n");
      expect(client.messages.at(-1)?.code).toBe(3);
    });

    it("delivers signals (SIGINT reaches Python as KeyboardInterrupt), which Piston's own never does", async () => {
      const client = await connect();
      client.send(
        init("python", "import time\nprint('ready', flush=True)\nwhile True:\n    time.sleep(0.05)\n"),
      );
      await eventually(() => client.text("stdout"), {
        until: (t) => t === "ready\n",
        what: "the loop started",
      });
      client.send({ type: "signal", signal: "SIGINT" });
      expect((await client.closed).code).toBe(4999);
      expect(client.text("stderr")).toContain("KeyboardInterrupt");
    });

    it("writes stdin as it comes and closes it on eof, so cat ends", async () => {
      const client = await connect();
      client.send(init("bash", "cat"));
      client.send({ type: "data", stream: "stdin", data: "line\n" });
      await eventually(() => client.text("stdout"), { until: (t) => t === "line\n", what: "the echo" });
      client.send({ type: "eof" });
      expect((await client.closed).code).toBe(4999);
      expect(client.messages.at(-1)).toEqual({ type: "exit", stage: "run", code: 0, signal: null });
    });

    it("caps output, which Piston's own does not", async () => {
      const client = await connect();
      client.send(init("bash", "yes"));
      expect((await client.closed).code).toBe(4999);
      expect(client.text("stdout").length).toBe(service.config.limits.run.outputBytes);
      expect(client.messages.at(-1)?.signal).toBe("SIGKILL");
    });

    it("closes with each of Piston's codes for the matching mistake", async () => {
      const cases: [string, (c: Awaited<ReturnType<typeof connect>>) => void, number][] = [
        [
          "second init",
          (c) => {
            c.send(init("bash", "sleep 5"));
            c.send(init("bash", "true"));
          },
          4000,
        ],
        ["no init", () => {}, 4001],
        ["not JSON", (c) => c.ws.send("{"), 4002],
        ["unknown runtime", (c) => c.send(init("cobol-2077", "x")), 4002],
        ["data before init", (c) => c.send({ type: "data", stream: "stdin", data: "x" }), 4003],
        [
          "writing to stdout",
          (c) => {
            c.send(init("bash", "sleep 5"));
            c.send({ type: "data", stream: "stdout", data: "x" });
          },
          4004,
        ],
        [
          "an invalid signal",
          (c) => {
            c.send(init("bash", "sleep 5"));
            c.send({ type: "signal", signal: "SIGFOO" });
          },
          4005,
        ],
      ];
      for (const [what, act, code] of cases) {
        const client = await connect();
        act(client);
        expect((await client.closed).code, what).toBe(code);
        if (code !== 4000)
          expect(
            client.messages.find((m) => m.type === "error"),
            what,
          ).toBeDefined();
      }
    });
  },
);
