import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  startBrowserAndService,
} from "../helpers/browser.ts";
import type { TestService } from "../helpers/service.ts";

// The API reference (/docs) in Debian's Chromium against the real service: Swagger UI renders
// /openapi.json under the page's strict CSP with nothing loaded from another origin, and "Try it
// out" on POST /run sends the document's own example to this service and shows the real result.

const unavailable = await browserTestsUnavailable("API reference browser tests");

let started: BrowserAndService;
let service: TestService;
let browser: Browser;

describe.skipIf(unavailable)("the API reference page in a real browser", () => {
  beforeAll(async () => {
    started = await startBrowserAndService();
    ({ service, browser } = started);
  });

  afterAll(async () => {
    await started?.close();
  });

  it("renders every operation from this origin only, and runs the example job with Try it out", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(`${service.api.url}/docs`);
    await page.waitForSelector(".opblock-summary-path", { timeout: 20_000 });
    const paths = await page.locator(".opblock-summary-path").allTextContents();
    for (const path of ["/run", "/jobs", "/jobs/{id}", "/batches", "/languages", "/healthz"]) {
      expect(paths.map((p) => p.replace(/\u200b/g, ""))).toContain(path);
    }
    await watched.screenshot("docs-page");

    const run = page.locator("#operations-jobs-post_run");
    await run.locator(".opblock-summary").click();
    await run.getByRole("button", { name: "Try it out" }).click();
    await run.getByRole("button", { name: "Execute" }).click();
    const answer = run.locator(".live-responses-table tbody .response-col_status").first();
    await answer.waitFor({ timeout: 60_000 });
    expect((await answer.textContent())?.trim()).toBe("200");
    const body = await run.locator(".live-responses-table .microlight").first().textContent();
    expect(JSON.parse(body ?? "{}")).toMatchObject({
      status: "completed",
      verdict: "accepted",
      language: "c",
    });
    await watched.screenshot("docs-page-try-it-out");

    expect(watched.foreignRequests(service.api.url)).toEqual([]);
    expect(watched.errors).toEqual([]);
  });
});
