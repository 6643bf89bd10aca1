import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { startTestRedis } from "./redis.ts";
import { sandboxUnavailableReason } from "./sandbox.ts";
import { startTestService, type TestService } from "./service.ts";

// A real browser for the web pages' tests: Debian's Chromium (installed by scripts/setup.sh),
// driven by playwright-core — never a browser downloaded by a test tool. The flags keep Chromium
// from reaching for the network on its own (this machine has none: without them it retries
// refused connections at every start). Playwright gives every launch a fresh profile directory
// and every context fresh storage, so no test sees another's API key or drafts.
//
// A watched page records every request it makes, console errors (CSP violations among them) and
// uncaught exceptions, so a test can assert that the page talked to its own origin only and that
// nothing was refused. Screenshots go to var/screenshots/<name>.png as test artifacts.

export const CHROMIUM_PATH = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../var/screenshots");

/**
 * Why the browser tests of `what` cannot run here — no Chromium, or no sandbox for the service's
 * worker — said loudly; null when they can.
 */
export async function browserTestsUnavailable(what: string): Promise<string | null> {
  const reason = existsSync(CHROMIUM_PATH)
    ? await sandboxUnavailableReason()
    : `${CHROMIUM_PATH} is missing (scripts/setup.sh installs Debian's chromium)`;
  if (reason) console.warn(`SKIPPED ${what}: ${reason}`);
  return reason;
}

export interface WatchedPage {
  page: Page;
  /** Every URL the page requested, in order. */
  requests: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Saves a screenshot as var/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** Requests to any origin but `origin` (data: and blob: URLs stay in the page). */
  foreignRequests(origin: string): string[];
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

export async function openPage(
  browser: Browser,
  options: { colorScheme?: "light" | "dark"; bypassCSP?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: 1360, height: 860 },
    colorScheme: options.colorScheme ?? "light",
    // Only for injecting a test tool (axe) into the page; every other test runs under the real CSP.
    bypassCSP: options.bypassCSP ?? false,
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    page,
    requests,
    errors,
    async screenshot(name) {
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    foreignRequests(origin) {
      return requests.filter((url) => !/^(data|blob):/.test(url) && new URL(url).origin !== origin);
    },
  };
}

/** Replaces the editor's text as typed input (one insertion, so auto-indent does not re-indent it). */
export async function setProgram(page: Page, source: string): Promise<void> {
  await page.click(".cm-content");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(source);
}

/** A browser and the service it tests (real Redis, API and worker), started and stopped together. */
export interface BrowserAndService {
  browser: Browser;
  service: TestService;
  redisUrl: string;
  close(): Promise<void>;
}

export async function startBrowserAndService(env: Record<string, string> = {}): Promise<BrowserAndService> {
  const redis = await startTestRedis();
  const service = await startTestService({ redisUrl: redis.url, worker: true, env });
  const browser = await launchBrowser();
  return {
    browser,
    service,
    redisUrl: redis.url,
    async close() {
      await browser.close();
      await service.close();
      await redis.stop();
    },
  };
}
