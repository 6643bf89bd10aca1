import { readFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  setProgram,
  startBrowserAndService,
  type WatchedPage,
} from "../helpers/browser.ts";
import type { TestService } from "../helpers/service.ts";

// Live runs in the playground, in Debian's Chromium against the real service: output shows up as
// the program writes it (SSE read through fetch), and in interactive mode the person types into
// the running program over /ws — lines to its stdin, Ctrl+D to end it, Ctrl+C to interrupt it.
// Every page must talk to its own origin only (the WebSocket included) without tripping its CSP.
// Screenshots land in var/screenshots/.

const unavailable = await browserTestsUnavailable("live playground browser tests");

let started: BrowserAndService;
let service: TestService;
let browser: Browser;
let opened: WatchedPage[] = [];

const GUESSING = readFileSync(path.resolve(import.meta.dirname, "../fixtures/guessing-game.py"), "utf8");

async function open(origin = service.api.url): Promise<WatchedPage> {
  const watched = await openPage(browser);
  opened.push(watched);
  watched.page.on("websocket", (socket) => watched.requests.push(socket.url()));
  await watched.page.goto(`${origin}/`);
  await watched.page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  return watched;
}

/** Picks python and types `source`; interactive runs get the wall-time ceiling for slow typists. */
async function program(watched: WatchedPage, source: string, interactive: boolean) {
  const { page } = watched;
  await page.selectOption("#language", "python");
  await setProgram(page, source);
  await page.setChecked("#interactive", interactive);
  if (interactive) {
    await page.click("#limits summary");
    await page.fill("#limit-wall", String(service.config.limits.ceilings.wallTimeMs));
  }
}

/** A program printing `line 0`… every 200 ms, then sleeping `thenSleepS` seconds. */
const printsLines = (count: number, thenSleepS: number) =>
  `import time\nfor i in range(${count}):\n    print(f"line {i}", flush=True)\n    time.sleep(0.2)\ntime.sleep(${thenSleepS})\n`;
const linesPrinted = (count: number) => Array.from({ length: count }, (_, i) => `line ${i}\n`).join("");

/** The service's origin as a WebSocket's (ws://host:port). */
const wsOrigin = () => service.api.url.replace(/^http/, "ws");

/** Waits until the live output contains `text`. */
async function waitForOutput(watched: WatchedPage, text: string) {
  await watched.page.waitForFunction(
    (expected) => document.querySelector(".live-output")?.textContent?.includes(expected) ?? false,
    text,
    { timeout: 30_000 },
  );
}

async function typeLine(watched: WatchedPage, line: string) {
  await watched.page.fill("#console-input", line);
  await watched.page.press("#console-input", "Enter");
}

describe.skipIf(unavailable)("live output and interactive runs in the playground", () => {
  beforeAll(async () => {
    started = await startBrowserAndService();
    ({ service, browser } = started);
  });

  afterEach(async () => {
    for (const watched of opened) {
      const foreign = watched
        .foreignRequests(service.api.url)
        .filter((url) => new URL(url).origin !== wsOrigin());
      expect(foreign).toEqual([]);
      expect(watched.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
      await watched.page.context().close();
    }
    opened = [];
  });

  afterAll(async () => {
    await started?.close();
  });

  it("shows a program's first line while it is still running, then the finished result as before", async () => {
    const watched = await open();
    const { page } = watched;
    await program(watched, printsLines(10, 0), false);
    await page.click("#run");

    await waitForOutput(watched, "line 0");
    // Read in one step: the first line is on screen while the run has not finished.
    const seen = await page.evaluate(() => ({
      text: document.querySelector(".live-output")?.textContent ?? "",
      finished: document.querySelector(".summary") !== null,
      stopEnabled: !(document.getElementById("stop") as HTMLButtonElement).disabled,
    }));
    expect(seen.finished).toBe(false);
    expect(seen.text).not.toContain("line 9");
    expect(seen.stopEnabled).toBe(true);
    await watched.screenshot("playground-live-output");

    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    const lines = linesPrinted(10);
    expect(await page.textContent(".step .output")).toBe(lines);
    expect(await page.textContent(".step .metrics")).toMatch(/exit\s*0/);
    expect(await page.locator("[data-live]").count()).toBe(0);
  });

  it("resumes a stream cut off mid-run (by a proxy dropping its connections) from its last event: every line once", async () => {
    const proxy = await startCuttingProxy(service.api.port);
    try {
      const watched = await open(proxy.url);
      const { page } = watched;
      // It sleeps 2 s after its last line: the live view still shows while it does.
      await program(watched, printsLines(12, 2), false);
      await page.click("#run");
      await waitForOutput(watched, "line 1");
      proxy.cut();
      await waitForOutput(watched, "line 11");
      const lines = linesPrinted(12);
      expect(await page.textContent(".live-output")).toBe(lines);
      const resumed = watched.requests.filter((url) =>
        /\/jobs\/[^/]+\/events\?lastEventId=\d+-\d+$/.test(url),
      );
      expect(resumed.length).toBeGreaterThan(0);
      await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
      expect(await page.textContent(".step .output")).toBe(lines);
      expect(watched.foreignRequests(proxy.url)).toEqual([]);
      expect(watched.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
      await watched.page.context().close();
      opened = opened.filter((o) => o !== watched);
    } finally {
      await proxy.close();
    }
  });

  it("plays a guessing game typed into the running program, and keeps the session's transcript", async () => {
    const watched = await open();
    const { page } = watched;
    await program(watched, GUESSING, true);
    await page.click("#run");

    await waitForOutput(watched, "guess? ");
    expect(await page.isVisible("#console-input")).toBe(true);
    expect(await page.isVisible("#interactive-note")).toBe(true);
    // The console takes the focus when the run starts: the person can type at once.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("console-input");
    await typeLine(watched, "50");
    await waitForOutput(watched, "lower");
    await typeLine(watched, "25");
    await waitForOutput(watched, "higher");
    await watched.screenshot("playground-interactive");
    await typeLine(watched, "37");

    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".session .live-output")).toBe(
      "guess? 50\nlower\nguess? 25\nhigher\nguess? 37\ncorrect\n",
    );
    expect(await page.textContent(".session .live-stdin")).toBe("50\n");
    expect(await page.isVisible("#console")).toBe(false);
    expect(watched.requests).toContain(`${wsOrigin()}/ws`);
    await watched.screenshot("playground-interactive-finished");
  });

  it("Ctrl+C in the console interrupts a Python loop, which ends with KeyboardInterrupt", async () => {
    const watched = await open();
    const { page } = watched;
    await program(
      watched,
      'import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.05)\n',
      true,
    );
    await page.click("#run");

    await waitForOutput(watched, "looping");
    await page.focus("#console-input");
    await page.keyboard.press("Control+c");

    await page.waitForSelector(".summary[data-verdict]", { timeout: 30_000 });
    expect(await page.textContent(".session .live-output")).toContain("KeyboardInterrupt");
    expect(await page.textContent(".session .live-note")).toBe("^C\n");
    expect(await page.getAttribute(".summary", "data-verdict")).toBe("runtime_error");
    await watched.screenshot("playground-interactive-interrupted");
  });

  it("Ctrl+D ends the program's input: a program reading all of stdin finishes with what was typed", async () => {
    const watched = await open();
    const { page } = watched;
    await program(watched, "import sys\nprint(sys.stdin.read().upper(), end='')\n", true);
    await page.click("#run");

    await page.waitForSelector("#console:not([hidden])");
    await typeLine(watched, "one");
    await typeLine(watched, "two ✓");
    await page.keyboard.press("Control+d");
    expect(await page.isDisabled("#console-input")).toBe(true);

    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("ONE\nTWO ✓\n");
  });

  it("an interactive run the service refuses shows its error, naming the field", async () => {
    const watched = await open();
    const { page } = watched;
    await program(watched, "input()\n", true);
    await page.fill("#limit-cpu", String(service.config.limits.ceilings.cpuTimeMs + 1));
    await page.click("#run");
    await page.waitForSelector(".error-banner", { timeout: 30_000 });
    const text = await page.textContent(".error-banner");
    expect(text).toContain("cpuTimeMs");
    expect(text).toContain("[E_LIMIT_ABOVE_CEILING]");
    expect(await page.isVisible("#console")).toBe(false);
    expect(await page.isEnabled("#run")).toBe(true);
  });

  it("Stop cancels an interactive run that waits for input", async () => {
    const watched = await open();
    const { page } = watched;
    await program(watched, "input()\n", true);
    await page.click("#run");
    await page.waitForSelector("#console:not([hidden])");
    await page.click("#stop");
    await page.waitForSelector('.summary [data-verdict="cancelled"]', { timeout: 30_000 });
    expect(await page.isEnabled("#run")).toBe(true);
  });
});

/** A TCP proxy in front of the API whose cut() drops every open connection, as a proxy restarting would. */
async function startCuttingProxy(port: number) {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
