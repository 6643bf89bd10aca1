import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startTestService, type TestService } from "../../helpers/service.ts";

// Hostile bodies on the Piston routes get Piston's {"message"} with a 4xx, never a 5xx: bodies
// too large, JSON nested to the limit, wrong types everywhere, paths that leave the work dir.
// No worker: everything here is refused before a job exists.

let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

const send = (body: string, pathname = "/api/v2/execute") =>
  fetch(`${service.api.url}${pathname}`, { method: "POST", headers: { "content-type": "text/plain" }, body });

describe("Piston bad input", () => {
  it("a body over the limit is 413 and deeply nested JSON is 400, both as {message}", async () => {
    const huge = await send(
      `{"language":"python","files":[{"content":"${"x".repeat(service.config.api.BODY_LIMIT_BYTES)}"}]}`,
    );
    expect(huge.status).toBe(413);
    expect((await huge.json()).message).toMatch(/larger than/);
    const depth = 200_000;
    const deep = await send(`${"[".repeat(depth)}${"]".repeat(depth)}`);
    expect(deep.status).toBe(400);
    expect((await deep.json()).message).toBe("language is required as a string");
  });

  it("wrong types and escaping paths are refused with Piston's messages", async () => {
    const cases: [unknown, string][] = [
      ["just a string", "language is required as a string"],
      [null, "language is required as a string"],
      [{ language: ["python"] }, "language is required as a string"],
      [{ language: "python", files: "print(1)" }, "files is required as an array"],
      [{ language: "python", files: [null] }, "files[0].content is required as a string"],
      [
        { language: "python", files: [{ content: "", encoding: "utf16" }] },
        "files must include at least one utf8 encoded file",
      ],
      [
        { language: "python", files: [{ content: "" }, { name: "/etc/passwd", content: "" }] },
        "files[1].name must be a relative path of plain segments (letters, digits, . _ + -)",
      ],
      [
        { language: "python", files: [{ content: "" }, { name: "main.py", content: "" }] },
        'files[1].name "main.py" is where this server puts the first file; rename it',
      ],
      [
        { language: "python", files: [{ content: "" }, { content: "zz", encoding: "hex" }] },
        "files[1].content is not valid hex",
      ],
      [
        { language: "python", files: [{ content: "" }, { content: "@@", encoding: "base64" }] },
        "files[1].content is not valid base64",
      ],
      [{ language: "python", files: [{ content: "" }], args: "1 2" }, "args must be an array of strings"],
      [{ language: "python", files: [{ content: "" }], stdin: 5 }, "stdin must be a string"],
      [
        { language: "python", version: "not a range", files: [{ content: "" }] },
        "python-not a range runtime is unknown",
      ],
      [
        { language: "python", files: [{ content: "" }], run_memory_limit: Number.MAX_VALUE },
        `run_memory_limit cannot exceed the configured limit of ${service.config.limits.ceilings.memoryBytes}`,
      ],
    ];
    for (const [body, message] of cases) {
      const response = await send(JSON.stringify(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json(), JSON.stringify(body)).toEqual({ message });
    }
    const tooManyArgs = await send(
      JSON.stringify({ language: "python", files: [{ content: "" }], args: Array(65).fill("a") }),
    );
    expect(tooManyArgs.status).toBe(400);
    expect((await tooManyArgs.json()).message).toMatch(/args/);
  });

  it("POST /packages checks its fields first", async () => {
    const response = await send("{}", "/api/v2/piston/packages");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: "language is required as a string" });
  });
});
