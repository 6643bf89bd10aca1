import type { Browser, Response } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  setProgram,
  startBrowserAndService,
  type WatchedPage,
} from "../helpers/browser.ts";
import { eventually } from "../helpers/eventually.ts";
import type { TestService } from "../helpers/service.ts";

// The playground in Debian's Chromium against the real service (API, queue, worker, sandboxes):
// what a person does — pick a language, type, run, read the verdict, fix a compile error, write
// tests, stop a runaway program, share a link. Every page load must talk to its own origin only
// and must not trip its CSP. Screenshots of each state land in var/screenshots/.

const unavailable = await browserTestsUnavailable("playground browser tests");

let started: BrowserAndService;
let service: TestService;
let browser: Browser;
let opened: WatchedPage[] = [];

/** Console noise that is not a fault: a fetch answered 4xx (the page handles it). */
const realErrors = (watched: WatchedPage) => watched.errors.filter((e) => !/Failed to load resource/.test(e));

async function open(pathname = "/", colorScheme: "light" | "dark" = "light") {
  const watched = await openPage(browser, { colorScheme });
  opened.push(watched);
  await watched.page.goto(`${service.api.url}${pathname}`);
  await watched.page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  return watched;
}

const editorText = (watched: WatchedPage) =>
  watched.page.evaluate(() =>
    [...document.querySelectorAll(".cm-line")].map((line) => line.textContent).join("\n"),
  );

describe.skipIf(unavailable)("the playground in a real browser", () => {
  beforeAll(async () => {
    started = await startBrowserAndService();
    ({ service, browser } = started);
  });

  afterEach(async () => {
    for (const watched of opened) {
      expect(watched.foreignRequests(service.api.url)).toEqual([]);
      expect(realErrors(watched)).toEqual([]);
      await watched.page.context().close();
    }
    opened = [];
  });

  afterAll(async () => {
    await started?.close();
  });

  it("picks python, runs a typed program with Ctrl+Enter and shows its output, verdict and usage", async () => {
    const watched = await open("/");
    const { page } = watched;
    const options = await page.locator("#language option").allTextContents();
    expect(options.some((text) => /^Python 3 — .*3\.\d+/.test(text))).toBe(true);
    await page.selectOption("#language", "python");
    await page.click(".cm-content");
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.press("Delete");
    await page.keyboard.type('name = input()\nprint("Hello, " + name + "!")');
    expect(await editorText(watched)).toBe('name = input()\nprint("Hello, " + name + "!")');
    await page.fill("#stdin", "browser\n");
    await page.click(".cm-content");
    await page.keyboard.press("ControlOrMeta+Enter");

    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("Hello, browser!\n");
    const metrics = await page.textContent(".step .metrics");
    expect(metrics).toMatch(/exit\s*0/);
    expect(metrics).toMatch(/CPU\s*\d+ ms/);
    expect(metrics).toMatch(/memory\s*[\d.]+ (KiB|MiB)/);
    // Syntax highlighting is on: keywords and strings are coloured spans.
    expect(await page.locator(".cm-line span").count()).toBeGreaterThan(0);
    await watched.screenshot("playground-python-ok");
    await page.emulateMedia({ colorScheme: "dark" });
    await watched.screenshot("playground-python-ok-dark");
  });

  it("shows a C compile error with its line linked to the editor", async () => {
    const watched = await open("/");
    const { page } = watched;
    await page.selectOption("#language", "c");
    await setProgram(
      page,
      '#include <stdio.h>\n\nint main(void) {\n    printf("%d\\n", missing);\n    return 0;\n}\n',
    );
    await page.click("#run");

    await page.waitForSelector('.summary[data-verdict="compile_error"]', { timeout: 30_000 });
    const link = page.locator(".source-link", { hasText: "main.c:4" }).first();
    expect(await link.textContent()).toMatch(/^main\.c:4:\d+/);
    expect(await page.locator(".cm-lint-marker-error").count()).toBeGreaterThan(0);
    await page.click(".cm-content"); // cursor elsewhere first
    await page.keyboard.press("ControlOrMeta+Home");
    await link.click();
    expect(await page.textContent(".cm-activeLineGutter")).toBe("4");
    await watched.screenshot("playground-c-compile-error");
  });

  it("runs the tests panel's cases and shows a failing one as wrong_answer beside its expected output", async () => {
    const watched = await open("/");
    const { page } = watched;
    await page.selectOption("#language", "python");
    await setProgram(watched.page, "print(int(input()) * 2)\n");
    await page.click("#tab-tests");
    await page.click("#add-test");
    await page.fill("#test-0-stdin", "2\n");
    await page.fill("#test-0-expected", "4\n");
    await page.click("#add-test");
    await page.fill("#test-1-stdin", "3\n");
    await page.fill("#test-1-expected", "7\n");
    await page.click("#run");

    await page.waitForSelector('.summary[data-verdict="wrong_answer"]', { timeout: 30_000 });
    expect(await page.textContent(".summary")).toContain("1 of 2 tests passed");
    const verdicts = await page
      .locator(".step .badge")
      .evaluateAll((badges) => badges.map((badge) => badge.getAttribute("data-verdict")));
    expect(verdicts).toEqual(["accepted", "wrong_answer"]);
    const failing = page.locator("details.step").nth(1);
    expect(await failing.textContent()).toContain("Expected output");
    expect(await failing.locator(".output").allTextContents()).toEqual(["3\n", "7\n", "6\n"]);
    await watched.screenshot("playground-tests-wrong-answer");
  });

  it("stops a while True program with Stop, which cancels the running job", async () => {
    const watched = await open("/");
    const { page } = watched;
    const submitted = await runRunaway(watched);
    const id = jobIdOf(await submitted);
    await waitForRunning(id);
    await watched.screenshot("playground-running");
    await page.click("#stop");

    await expectCancelled(watched, id);
    expect(await page.isEnabled("#run")).toBe(true);
    await watched.screenshot("playground-stopped");
  });

  it("cancels a job even when Stop is pressed before POST /run has answered with its id", async () => {
    const watched = await open("/");
    const submitted = await runRunaway(watched);
    // Pressed before the stream's headers (X-Job-Id) or job.queued can have named the job.
    await watched.page.click("#stop");
    await expectCancelled(watched, jobIdOf(await submitted));
  });

  it("reopens the program, language, stdin and tests from a share link in a fresh browser, and keeps edits over it", async () => {
    const author = await open("/");
    const { page } = author;
    await page.selectOption("#language", "bash");
    const source = 'read -r a b\necho "$((a + b)) ünïcode ✓"\n';
    await setProgram(author.page, source);
    await page.fill("#stdin", "20 22\n");
    await page.click("#tab-tests");
    await page.click("#add-test");
    await page.fill("#test-0-stdin", "1 2\n");
    await page.fill("#test-0-expected", "3 ünïcode ✓\n");
    await page.selectOption("#compare", "tokens");
    await page.click("#share");
    // The link is compressed asynchronously; the dialog opens once the address is in the field.
    await page.waitForSelector("#share-dialog[open]");
    const url = await page.inputValue("#share-url");
    expect(url).toMatch(/#p=v1\./);
    await author.screenshot("playground-share-dialog");

    // A fresh context: no drafts, no storage — everything comes from the link.
    const reader = await open(new URL(url).pathname + new URL(url).hash);
    expect(await editorText(reader)).toBe(source);
    expect(await reader.page.inputValue("#language")).toBe("bash");
    expect(await reader.page.inputValue("#stdin")).toBe("20 22\n");
    expect(await reader.page.inputValue("#test-0-stdin")).toBe("1 2\n");
    expect(await reader.page.inputValue("#test-0-expected")).toBe("3 ünïcode ✓\n");
    expect(await reader.page.inputValue("#compare")).toBe("tokens");
    await reader.page.click("#run");
    await reader.page.waitForSelector('.summary[data-verdict="accepted"]', { timeout: 30_000 });
    await reader.screenshot("playground-shared-link-reopened");

    // An edit drops the link from the address: a reload shows the edit (and the link's input and
    // tests, kept as the workspace), not the link's program.
    const hash = () => reader.page.evaluate(() => location.hash);
    expect(await hash()).toMatch(/^#p=/);
    await reader.page.click(".cm-content");
    await reader.page.keyboard.press("ControlOrMeta+End");
    await reader.page.keyboard.insertText("# edited\n");
    expect(await hash()).toBe("");
    await reader.page.reload();
    await reader.page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    expect(await editorText(reader)).toBe(`${source}# edited\n`);
    expect(await reader.page.inputValue("#stdin")).toBe("20 22\n");
    expect(await reader.page.inputValue("#test-0-expected")).toBe("3 ünïcode ✓\n");
  });
});

/**
 * Starts `while True: pass` with CPU and wall limits at the ceilings, so only Stop ends it within
 * the test; resolves with the pending POST /run response (its headers: the body streams until the end).
 */
async function runRunaway(watched: WatchedPage) {
  const { page } = watched;
  await page.selectOption("#language", "python");
  await setProgram(watched.page, "while True:\n    pass\n");
  await page.click("#limits summary");
  await page.fill("#limit-cpu", String(service.config.limits.ceilings.cpuTimeMs));
  await page.fill("#limit-wall", String(service.config.limits.ceilings.wallTimeMs));
  const submitted = page.waitForResponse((response) => response.url().includes("/run"));
  await page.click("#run");
  return submitted;
}

/** The job a streamed POST /run started (its X-Job-Id header). */
function jobIdOf(response: Response): string {
  const id = response.headers()["x-job-id"];
  expect(id).toMatch(/\S/);
  return id as string;
}

async function expectCancelled(watched: WatchedPage, id: string) {
  await watched.page.waitForSelector('.summary [data-verdict="cancelled"]', { timeout: 20_000 });
  expect((await (await service.get(`/jobs/${id}`)).json()).status).toBe("cancelled");
}

async function waitForRunning(id: string) {
  await eventually(async () => (await service.get(`/jobs/${id}`)).json(), {
    until: (view) => view.status === "running",
    timeoutMs: 20_000,
    what: `job ${id} running`,
  });
}
