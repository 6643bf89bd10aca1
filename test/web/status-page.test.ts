import { Redis } from "ioredis";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../../contract/queue.ts";
import type { SetupFailureRecord } from "../../contract/status.ts";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  startBrowserAndService,
} from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import { runJob, type TestService } from "../helpers/service.ts";

// The operations page in Debian's Chromium against the real service: it shows the live worker
// with its slots, languages and heartbeat, the verdicts of jobs just run, charts drawn from the
// samples, recorded sandbox setup failures, and links to /docs and /admin/queues — and keeps
// itself up to date without a reload.

const unavailable = await browserTestsUnavailable("status page browser tests");

let started: BrowserAndService;
let service: TestService;
let browser: Browser;

describe.skipIf(unavailable)("the status page in a real browser", () => {
  beforeAll(async () => {
    started = await startBrowserAndService({ STATUS_SAMPLE_INTERVAL_MS: "250" });
    ({ service, browser } = started);
  });

  afterAll(async () => {
    await started?.close();
  });

  it("shows the worker, the verdict mix of recent jobs, setup failures and the charts, and refreshes by itself", async () => {
    await runJob(service, { language: "bash", source: "echo ok" });
    await runJob(service, {
      language: "bash",
      source: "echo 1",
      tests: [{ stdin: "", expectedOutput: "2" }],
    });
    // A setup failure as a worker records it (worker/record-job-metrics.ts), read back by the page.
    const redis = new Redis(started.redisUrl);
    const failure: SetupFailureRecord = {
      atMs: Date.now(),
      jobId: "0b6c1f7e-0000-4000-8000-000000000000",
      language: "c",
      host: "worker-7",
      error: "pivot_root: EINVAL",
      retried: true,
    };
    await redis.lpush(redisKeys(service.config.queue.QUEUE_PREFIX).setupFailures, JSON.stringify(failure));
    redis.disconnect();
    const watched = await openPage(browser, { colorScheme: "dark" });
    const { page } = watched;
    await page.goto(`${service.api.url}/status`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });

    const worker = service.worker?.id ?? "";
    const row = page.locator(`tr[data-worker="${worker}"]`);
    expect(await row.textContent()).toContain("python");
    expect(await row.locator(".slot").count()).toBe(service.config.worker.WORKER_SLOTS);
    expect(await row.textContent()).toMatch(/\d+ s ago/);
    expect(await row.textContent()).toContain("passed");
    // Workers write their metrics once a second (redis/shared-metrics-buffer.ts) and the page
    // polls, so the verdict mix may arrive a moment after the first render.
    const legend = await eventually(
      () =>
        page
          .locator(".legend [data-verdict]")
          .evaluateAll((badges) => badges.map((badge) => badge.getAttribute("data-verdict")).sort()),
      { until: (verdicts) => verdicts.length >= 2, timeoutMs: 20_000, what: "the verdict legend" },
    );
    expect(legend).toEqual(["ok", "wrong_answer"]);
    const failures = await page.textContent("#failures");
    expect(failures).toContain("worker-7");
    expect(failures).toContain("pivot_root: EINVAL");
    expect(failures).toContain("retried");
    expect(await page.getAttribute('a[href="/docs"]', "href")).toBe("/docs");
    expect(await page.getAttribute('a[href="/admin/queues"]', "href")).toBe("/admin/queues");

    // Another job, seen without reloading: the page polls /status.json.
    await runJob(service, { language: "bash", source: "exit 3" });
    await page.waitForSelector('.legend [data-verdict="runtime_error"]', { timeout: 20_000 });
    await eventually(() => page.locator(".sparkline polyline").count(), {
      until: (n) => n >= 3,
      timeoutMs: 20_000,
    });
    await watched.screenshot("status-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await watched.screenshot("status-light");

    expect(watched.foreignRequests(service.api.url)).toEqual([]);
    expect(watched.errors).toEqual([]);
    await page.context().close();
  });
});
