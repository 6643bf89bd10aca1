import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../../helpers/redis.ts";
import { startTestService, type TestService } from "../../helpers/service.ts";
import { writeZip } from "../../helpers/zip-writer.ts";

// Bad input on every Judge0 and Piston route gets that API's own error shape — Judge0's
// 422 {"field":["message"]}, 400/404 {"error"}, 401 with an empty body; Piston's {"message"} —
// never a 5xx. Keys map onto ours (X-Auth-Token, X-Auth-User, Piston's bare Authorization).
// No worker: validation happens before anything runs.

let redis: TestRedis;
let open: TestService;
let keyed: TestService;
const KEY = "judge0-test-key-1";
const OTHER = "judge0-test-key-2";

beforeAll(async () => {
  redis = await startTestRedis();
  open = await startTestService({ redisUrl: redis.url, worker: false });
  keyed = await startTestService({
    redisUrl: redis.url,
    worker: false,
    env: { API_KEYS: `${KEY},${OTHER}` },
  });
});

afterAll(async () => {
  await open?.close();
  await keyed?.close();
  await redis?.stop();
});

const submit = (body: unknown, query = "") => open.post(`/judge0/submissions${query}`, body);

async function expectInvalid(response: Response, errors: Record<string, string[]>) {
  expect(response.status).toBe(422);
  expect(await response.json()).toEqual(errors);
}

describe("Judge0 bad input", () => {
  it("missing fields, and a body that is not JSON, are Rails' can't be blank", async () => {
    const blank = { source_code: ["can't be blank"], language_id: ["can't be blank"] };
    await expectInvalid(await submit({}), blank);
    const plain = await fetch(`${open.api.url}/judge0/submissions`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"source_code":"print(1)","language_id":71}',
    });
    await expectInvalid(plain, blank);
  });

  it("every field is checked and all problems are reported at once, with Rails' messages", async () => {
    const ceiling = open.config.limits.ceilings.cpuTimeMs / 1000;
    await expectInvalid(
      await submit({
        source_code: "print(1)",
        language_id: "abc",
        stdin: { no: 1 },
        cpu_time_limit: 99,
        wall_time_limit: "soon",
        memory_limit: 100,
        number_of_runs: 0,
        max_processes_and_or_threads: 1.5,
        enable_network: true,
        enable_per_process_and_thread_time_limit: "maybe",
        compiler_options: "-O3",
        command_line_arguments: "x".repeat(513),
      }),
      {
        language_id: ["is not a number"],
        stdin: ["is invalid"],
        cpu_time_limit: [`must be less than or equal to ${ceiling.toFixed(1)}`],
        wall_time_limit: ["is not a number"],
        memory_limit: ["must be greater than or equal to 2048"],
        number_of_runs: ["must be greater than 0"],
        max_processes_and_or_threads: ["must be an integer"],
        enable_network: ["this option cannot be enabled"],
        enable_per_process_and_thread_time_limit: ["is not a boolean"],
        compiler_options: ["setting compiler options is not allowed"],
        command_line_arguments: ["is too long (maximum is 512 characters)"],
      },
    );
    await expectInvalid(await submit({ source_code: "x", language_id: 89 }), {
      language_id: ["language with id 89 doesn't exist"],
    });
    await expectInvalid(await submit({ source_code: "x", language_id: 71, number_of_runs: 21 }), {
      number_of_runs: ["must be less than or equal to 20"],
    });
    await expectInvalid(
      await submit({ source_code: "x", language_id: 71, command_line_arguments: "'open" }),
      {
        command_line_arguments: ["has an unterminated quote"],
      },
    );
    await expectInvalid(await submit({ source_code: "!!!", language_id: 71 }, "?base64_encoded=true"), {
      source_code: ["is not valid base64"],
    });
  });

  it("callback_url must be http(s) and pass the SSRF policy", async () => {
    const loopback = await submit({
      source_code: "x",
      language_id: 71,
      callback_url: "http://127.0.0.1:9/hook",
    });
    expect(loopback.status).toBe(422);
    expect((await loopback.json()).callback_url[0]).toMatch(/blocked by the webhook address policy/);
    const metadata = await submit({
      source_code: "x",
      language_id: 71,
      callback_url: "http://169.254.169.254/",
    });
    expect(metadata.status).toBe(422);
    const ftp = await submit({ source_code: "x", language_id: 71, callback_url: "ftp://example.com/x" });
    expect(ftp.status).toBe(422);
    expect(Object.keys(await ftp.json())).toEqual(["callback_url"]);
  });

  it("a hostile additional_files zip is a 422 naming additional_files", async () => {
    const cases = [
      writeZip([{ name: "../escape.py", data: "x" }]),
      writeZip([{ name: "link", data: "/etc/shadow", mode: 0o120777 }]),
      writeZip([{ name: "bomb", data: Buffer.alloc(2 * 1024 * 1024), deflate: true }]),
      writeZip([{ name: "main.py", data: "print('replaced')" }]),
    ];
    for (const zip of cases) {
      const response = await submit({
        source_code: "x",
        language_id: 71,
        additional_files: zip.toString("base64"),
      });
      expect(response.status).toBe(422);
      const body = await response.json();
      expect(Object.keys(body)).toEqual(["additional_files"]);
    }
    await expectInvalid(await submit({ source_code: "x", language_id: 71, additional_files: "%%%" }), {
      additional_files: ["is not valid base64"],
    });
  });

  it("400/404/413 answers are {error}: fields, tokens, batches, pages, languages, routes, JSON", async () => {
    const expectError = async (response: Response, status: number, message: RegExp) => {
      expect(response.status).toBe(status);
      expect((await response.json()).error).toMatch(message);
    };
    await expectError(
      await submit({ source_code: "x", language_id: 71 }, "?fields=token,bogus,nope"),
      400,
      /^invalid fields: \[bogus, nope\]$/,
    );
    await expectError(await open.get("/judge0/submissions/not-a-token"), 404, /not found/);
    await expectError(await open.get("/judge0/submissions/batch"), 400, /at least one token/);
    const tokens = Array.from({ length: 21 }, () => crypto.randomUUID()).join(",");
    await expectError(
      await open.get(`/judge0/submissions/batch?tokens=${tokens}`),
      400,
      /less than or equal to 20/,
    );
    await expectError(
      await open.post("/judge0/submissions/batch", {}),
      400,
      /^there should be at least one submission in a batch$/,
    );
    const many = Array.from({ length: 21 }, () => ({ source_code: "x", language_id: 71 }));
    await expectError(
      await open.post("/judge0/submissions/batch", { submissions: many }),
      400,
      /^number of submissions in a batch should be less than or equal to 20$/,
    );
    const allBad = await open.post("/judge0/submissions/batch", {
      submissions: [{}, { source_code: "x", language_id: 1 }],
    });
    expect(allBad.status).toBe(422);
    expect(await allBad.json()).toEqual([
      { source_code: ["can't be blank"], language_id: ["can't be blank"] },
      { language_id: ["language with id 1 doesn't exist"] },
    ]);
    await expectError(await open.get("/judge0/submissions?page=0"), 400, /page must be a positive integer/);
    await expectError(await open.get("/judge0/languages/99999"), 404, /doesn't exist/);
    await expectError(await open.get("/judge0/languages/abc"), 404, /doesn't exist/);
    await expectError(await open.get("/judge0/no-such-route"), 404, /no route/);
    await expectError(await open.del("/judge0/submissions/not-a-token"), 404, /not found/);
    const badJson = await fetch(`${open.api.url}/judge0/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    await expectError(badJson, 400, /not valid JSON/);
    const huge = await open.post("/judge0/submissions", {
      source_code: "x".repeat(open.config.api.BODY_LIMIT_BYTES + 1),
    });
    await expectError(huge, 413, /larger than/);
  });

  it("statuses, about, config_info, system_info, workers, version answer without a worker", async () => {
    expect(await (await open.get("/judge0/statuses")).json()).toHaveLength(14);
    expect((await (await open.get("/judge0/about")).json()).version).toBe("1.13.1");
    expect(Object.keys(await (await open.get("/judge0/config_info")).json())).toHaveLength(39);
    expect((await (await open.get("/judge0/system_info")).json())["CPU(s)"]).toMatch(/^\d+$/);
    const [queue] = await (await open.get("/judge0/workers")).json();
    expect(queue).toEqual({
      queue: "jobs",
      size: expect.any(Number),
      available: 0,
      idle: 0,
      working: 0,
      paused: 0,
      failed: 0,
    });
    expect(await (await open.get("/judge0/version")).text()).toBe("1.13.1");
  });
});

describe("Judge0 and Piston keys", () => {
  it("X-Auth-Token (header or query) and X-Auth-User name our API keys; without one, 401 with no body", async () => {
    const none = await keyed.get("/judge0/languages");
    expect(none.status).toBe(401);
    expect(await none.text()).toBe("");
    expect((await keyed.get("/judge0/languages", { "X-Auth-Token": "wrong" })).status).toBe(401);
    expect((await keyed.get("/judge0/languages", { "X-Auth-Token": KEY })).status).toBe(200);
    expect((await keyed.get(`/judge0/languages?X-Auth-Token=${KEY}`)).status).toBe(200);
    expect((await keyed.get("/judge0/languages", { "X-Auth-User": KEY })).status).toBe(200);
    expect((await keyed.get("/judge0/languages", { Authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect((await keyed.post("/judge0/authenticate", {}, { "X-Auth-Token": KEY })).status).toBe(200);
    expect((await keyed.post("/judge0/authenticate", {}, { "X-Auth-Token": "nope" })).status).toBe(401);
    expect((await keyed.post("/judge0/authorize", {}, { "X-Auth-User": KEY })).status).toBe(200);
    const forbidden = await keyed.post("/judge0/authorize", {}, { "X-Auth-Token": KEY });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.text()).toBe("");
  });

  it("a submission belongs to its key: another key sees 404 and an empty list", async () => {
    const created = await keyed.post(
      "/judge0/submissions",
      { source_code: "print(1)", language_id: 71 },
      { "X-Auth-Token": KEY },
    );
    expect(created.status).toBe(201);
    const { token } = await created.json();
    expect((await keyed.get(`/judge0/submissions/${token}`, { "X-Auth-Token": KEY })).status).toBe(200);
    expect((await keyed.get(`/judge0/submissions/${token}`, { "X-Auth-Token": OTHER })).status).toBe(404);
    const list = await (await keyed.get("/judge0/submissions", { "X-Auth-Token": OTHER })).json();
    expect(list).toEqual({
      submissions: [],
      meta: { current_page: 1, next_page: null, prev_page: null, total_pages: 0, total_count: 0 },
    });
    const batch = await (
      await keyed.get(`/judge0/submissions/batch?tokens=${token}`, { "X-Auth-Token": OTHER })
    ).json();
    expect(batch).toEqual({ submissions: [null] });
  });

  it("Piston takes our key as a bare Authorization header; without one, 401 {message}", async () => {
    const none = await fetch(`${keyed.api.url}/api/v2/runtimes`);
    expect(none.status).toBe(401);
    expect((await none.json()).message).toMatch(/API key/);
    const bare = await fetch(`${keyed.api.url}/api/v2/piston/runtimes`, { headers: { authorization: KEY } });
    expect(bare.status).toBe(200);
    expect(Array.isArray(await bare.json())).toBe(true);
  });
});

describe("Judge0 and Piston under load limits", () => {
  it("a full queue is Judge0's 503 {error: queue is full}; a spent rate limit is 429 in each API's shape", async () => {
    const limited = await startTestService({
      redisUrl: redis.url,
      worker: false,
      env: { API_KEYS: KEY, MAX_QUEUED_JOBS: "1", KEY_DEFAULT_REQUESTS_PER_MINUTE: "3" },
    });
    try {
      const auth = { "X-Auth-Token": KEY };
      const job = { source_code: "print(1)", language_id: 71 };
      expect((await limited.post("/judge0/submissions", job, auth)).status).toBe(201);
      const full = await limited.post("/judge0/submissions", job, auth);
      expect(full.status).toBe(503);
      expect(full.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await full.json()).toEqual({ error: "queue is full" });
      // The refused submission left nothing behind: the list holds the accepted one only.
      const list = await (await limited.get("/judge0/submissions", auth)).json();
      expect(list.meta.total_count).toBe(1);
      const judge0Limited = await limited.get("/judge0/statuses", auth);
      expect(judge0Limited.status).toBe(429);
      expect((await judge0Limited.json()).error).toMatch(/rate limit of 3 requests per minute/);
      const pistonLimited = await fetch(`${limited.api.url}/api/v2/runtimes`, {
        headers: { authorization: KEY },
      });
      expect(pistonLimited.status).toBe(429);
      expect(pistonLimited.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await pistonLimited.json()).message).toMatch(/rate limit of 3 requests per minute/);
    } finally {
      await limited.close();
    }
  });
});
