import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookAddressPolicy } from "../../api/webhook-address-policy.ts";
import { SIGNATURE_HEADER, verifyWebhook } from "../../contract/webhook.ts";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// Webhooks: signed deliveries to a receiver on loopback (allowed by test config), retried with
// backoff after a failure and listed on the job; and the SSRF policy refusing private targets.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED webhook delivery tests: ${unavailable}`);

const SECRET = "test-webhook-secret-0123456789abcdef";

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let redis: TestRedis;
let open: TestService;
let strict: TestService;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
/** Status codes the receiver answers with, in order; 200 once they run out. */
const answers: number[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  strict = await startTestService({ redisUrl: redis.url, worker: false, env: { WEBHOOK_SECRET: SECRET } });
});

afterAll(async () => {
  await open?.close();
  await strict?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  await redis?.stop();
});

async function deliveriesTo(path: string, count: number, timeoutMs = 60_000) {
  return eventually(() => received.filter((r) => r.url === path), {
    until: (deliveries) => deliveries.length >= count,
    timeoutMs,
    what: `${count} deliveries to ${path}`,
  });
}

describe("the default address policy (SSRF)", () => {
  const refused = [
    "http://127.0.0.1:9/hook",
    "http://localhost:9/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
  ];
  it.each(refused)("a callback to %s is refused with a 400 naming callbackUrl", async (url) => {
    const response = await strict.post("/jobs", { language: "bash", source: "true", callbackUrl: url });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe("E_CALLBACK_FORBIDDEN");
    expect(body.error.details.field).toBe("callbackUrl");
    expect(body.error.message).toMatch(/^callbackUrl: /);
  });

  it("a batch's callbackUrl is checked the same way", async () => {
    const response = await strict.post("/batches", {
      jobs: [{ language: "bash", source: "true" }],
      callbackUrl: "http://192.168.0.10/hook",
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("E_CALLBACK_FORBIDDEN");
  });

  it("non-http schemes and credentials in the URL are validation errors", async () => {
    for (const url of ["file:///etc/passwd", "gopher://example.com/", "http://user:pw@example.com/"]) {
      const response = await strict.post("/jobs", { language: "bash", source: "true", callbackUrl: url });
      expect(response.status).toBe(400);
      expect((await response.json()).error.details[0].field).toBe("callbackUrl");
    }
  });

  it("public addresses pass; allow-listed CIDRs open a hole; extra deny CIDRs close one", () => {
    const policy = new WebhookAddressPolicy({
      WEBHOOK_ALLOW_CIDRS: "10.9.0.0/16",
      WEBHOOK_DENY_CIDRS: "203.0.113.0/24",
    });
    expect(policy.refusal("93.184.216.34")).toBeNull();
    expect(policy.refusal("2606:4700::1111")).toBeNull();
    expect(policy.refusal("10.9.1.1")).toBeNull();
    expect(policy.refusal("10.8.1.1")).toMatch(/denied/);
    expect(policy.refusal("203.0.113.7")).toMatch(/denied/);
    expect(policy.refusal("::ffff:10.8.1.1")).toMatch(/denied/);
    expect(
      () => new WebhookAddressPolicy({ WEBHOOK_ALLOW_CIDRS: "nonsense", WEBHOOK_DENY_CIDRS: "" }),
    ).toThrow(/WEBHOOK_ALLOW_CIDRS/);
  });
});

describe.skipIf(unavailable !== null)(`webhook deliveries ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    open = await startTestService({
      redisUrl: redis.url,
      worker: true,
      env: {
        WORKER_SLOTS: "1",
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8",
        WEBHOOK_BACKOFF_MS: "100",
        WEBHOOK_ATTEMPTS: "3",
      },
    });
  });

  it("a finished job is POSTed signed, retried after a 500, and its attempts are listed", async () => {
    answers.push(500);
    const response = await open.post("/jobs", {
      language: "bash",
      source: "echo hooked",
      callbackUrl: `${receiverUrl}/job-hook`,
    });
    expect(response.status).toBe(202);
    const { id } = await response.json();
    const [first, second] = await deliveriesTo("/job-hook", 2);
    for (const delivery of [first, second] as Received[]) {
      const signature = String(delivery.headers[SIGNATURE_HEADER]);
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhook(SECRET, delivery.body, signature, Math.floor(Date.now() / 1000))).toBe(true);
      expect(verifyWebhook("another-secret-0123456789", delivery.body, signature, Date.now() / 1000)).toBe(
        false,
      );
      expect(delivery.headers["cellblock-event"]).toBe("job.finished");
      expect(delivery.headers["cellblock-delivery"]).toBe(`job-${id}`);
    }
    const payload = JSON.parse((second as Received).body);
    expect(payload.job).toMatchObject({
      id,
      status: "completed",
      result: { runs: [{ stdout: "hooked\n" }] },
    });

    const view = await eventually(async () => (await open.get(`/jobs/${id}`)).json(), {
      until: (candidate) => candidate.callback?.state === "delivered",
      timeoutMs: 10_000,
      what: "the job's callback delivered",
    });
    expect(view.callback).toMatchObject({
      url: `${receiverUrl}/job-hook`,
      state: "delivered",
      attempts: [
        { attempt: 1, status: 500, ok: false },
        { attempt: 2, status: 200, ok: true },
      ],
    });
  });

  it("a finished batch is POSTed once with its counts", async () => {
    const jobs = [
      { language: "bash", source: "echo 1" },
      { language: "bash", source: "exit 3" },
    ];
    const { id } = await (
      await open.post("/batches", { jobs, callbackUrl: `${receiverUrl}/batch-hook` })
    ).json();
    const [delivery] = await deliveriesTo("/batch-hook", 1);
    const signature = String(delivery?.headers[SIGNATURE_HEADER]);
    expect(verifyWebhook(SECRET, delivery?.body ?? "", signature, Math.floor(Date.now() / 1000))).toBe(true);
    expect(JSON.parse(delivery?.body ?? "")).toMatchObject({
      event: "batch.finished",
      batch: { id, status: "finished", total: 2, counts: { completed: 2 } },
    });
  });
});
