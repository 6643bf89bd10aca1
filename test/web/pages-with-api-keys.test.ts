import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  setProgram,
  startBrowserAndService,
} from "../helpers/browser.ts";
import type { TestService } from "../helpers/service.ts";

// With API keys on, the pages still load without one (they hold no data), ask for a key when the
// data routes answer 401, keep it in the browser, and send it with every request after that —
// including on the next visit and on the other page — and on the live routes: the streamed run's
// fetch and the interactive run's WebSocket. A wrong key is asked for again.

const unavailable = await browserTestsUnavailable("API-key browser tests");

const KEY = "playground-test-key-0123456789";
let started: BrowserAndService;
let service: TestService;
let browser: Browser;

describe.skipIf(unavailable)("the pages with API keys on, in a real browser", () => {
  beforeAll(async () => {
    started = await startBrowserAndService({ API_KEYS: KEY });
    ({ service, browser } = started);
  });

  afterAll(async () => {
    await started?.close();
  });

  it("asks for the key once, keeps it, and runs programs and shows the status with it", async () => {
    expect((await service.get("/languages")).status).toBe(401);
    const watched = await openPage(browser);
    const { page } = watched;
    await page.goto(`${service.api.url}/`);
    await page.waitForSelector("#key-dialog[open]", { timeout: 20_000 });
    await watched.screenshot("playground-api-key-dialog");

    await page.fill("#key-input", "not-the-key");
    await page.click('#key-dialog button[value="save"]');
    await page.waitForSelector("#key-dialog[open]");
    expect(await page.textContent("#key-message")).toContain("did not accept");
    await page.fill("#key-input", KEY);
    await page.click('#key-dialog button[value="save"]');
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });

    await page.selectOption("#language", "python");
    await page.click("#run");
    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("Hello, world!\n");

    // The next visit, and the status page, use the stored key without asking.
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    await page.goto(`${service.api.url}/status`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    expect(await page.isVisible("#key-dialog[open]")).toBe(false);
    expect(await page.locator("tr[data-worker]").count()).toBe(1);

    expect(watched.foreignRequests(service.api.url)).toEqual([]);
    expect(watched.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await page.context().close();
  });

  it("streams output and runs an interactive program with the stored key (sent on /ws as a subprotocol)", async () => {
    const watched = await openPage(browser);
    const { page } = watched;
    await page.addInitScript((key) => localStorage.setItem("cellblock.apiKey", key), KEY);
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));
    await page.goto(`${service.api.url}/`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    await page.selectOption("#language", "python");
    await setProgram(page, 'name = input("name? ")\nprint("Hello, " + name + "!")\n');
    await page.check("#interactive");
    await page.click("#run");
    await page.waitForFunction(
      () => document.querySelector(".live-output")?.textContent?.includes("name? ") ?? false,
      undefined,
      { timeout: 30_000 },
    );
    await page.fill("#console-input", "keyed");
    await page.press("#console-input", "Enter");
    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("name? Hello, keyed!\n");
    expect(sockets).toEqual([`${service.api.url.replace(/^http/, "ws")}/ws`]);

    await page.uncheck("#interactive");
    await page.fill("#stdin", "streamed\n");
    await page.click("#run");
    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("name? Hello, streamed!\n");
    expect(await page.isVisible("#key-dialog[open]")).toBe(false);
    expect(watched.requests.some((url) => url.endsWith("/run?stream=1"))).toBe(true);
    expect(watched.foreignRequests(service.api.url)).toEqual([]);
    expect(watched.errors).toEqual([]);
    await page.context().close();
  });
});
