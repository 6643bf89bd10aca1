import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
// samples, and links to /docs and /admin/queues — and keeps itself up to date without a reload.

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

  it("shows the worker, the verdict mix of recent jobs and the charts, and refreshes by itself", async () => {
    await runJob(service, { language: "bash", source: "echo ok" });
    await runJob(service, {
      language: "bash",
      source: "echo 1",
      tests: [{ stdin: "", expectedOutput: "2" }],
    });
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
    const legend = await page
      .locator(".legend [data-verdict]")
      .evaluateAll((badges) => badges.map((badge) => badge.getAttribute("data-verdict")).sort());
    expect(legend).toEqual(["ok", "wrong_answer"]);
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
