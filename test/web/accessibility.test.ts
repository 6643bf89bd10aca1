import { createRequire } from "node:module";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BrowserAndService,
  browserTestsUnavailable,
  openPage,
  setProgram,
  startBrowserAndService,
} from "../helpers/browser.ts";
import type { TestService } from "../helpers/service.ts";

// Both pages, in both themes, with results on screen, checked by axe-core against WCAG 2 A and
// AA (labels, names, roles, contrast, …) — the interactive console and live output included — and
// the playground used from the keyboard alone.

const unavailable = await browserTestsUnavailable("accessibility browser tests");

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
let started: BrowserAndService;
let service: TestService;
let browser: Browser;

interface AxeViolation {
  id: string;
  impact: string;
  nodes: { target: string[] }[];
}

async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath });
  const found = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(options: unknown): Promise<{ violations: unknown }> } })
      .axe;
    return (await axe.run({ runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })).violations;
  })) as AxeViolation[];
  return found.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe.skipIf(unavailable)("accessibility of the web pages", () => {
  beforeAll(async () => {
    started = await startBrowserAndService();
    ({ service, browser } = started);
  });

  afterAll(async () => {
    await started?.close();
  });

  for (const colorScheme of ["light", "dark"] as const) {
    it(`the playground with a result and a failing test meets WCAG 2.1 AA (${colorScheme})`, async () => {
      const { page } = await openPage(browser, { colorScheme, bypassCSP: true });
      await page.goto(`${service.api.url}/`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      await page.click("#tab-tests");
      await page.click("#add-test");
      await page.fill("#test-0-stdin", "x\n");
      await page.fill("#test-0-expected", "nope\n");
      await page.click("#run");
      await page.waitForSelector(".summary[data-verdict]", { timeout: 30_000 });
      await page.click("#limits summary");
      expect(await violations(page)).toEqual([]);
      await page.context().close();
    });

    it(`the playground's live output and interactive console meet WCAG 2.1 AA, typed into by keyboard (${colorScheme})`, async () => {
      const { page } = await openPage(browser, { colorScheme, bypassCSP: true });
      await page.goto(`${service.api.url}/`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      await page.selectOption("#language", "python");
      await setProgram(
        page,
        'import sys\nprint("a warning", file=sys.stderr, flush=True)\ninput("first? ")\ninput("second? ")\n',
      );
      await page.check("#interactive");
      await page.keyboard.press("ControlOrMeta+Enter");
      await page.waitForSelector("#console:not([hidden])", { timeout: 30_000 });
      // The console has the focus: the person types straight away, and Enter sends the line.
      await page.keyboard.type("one");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        () => document.querySelector(".live-output")?.textContent?.includes("second? ") ?? false,
        undefined,
        { timeout: 30_000 },
      );
      expect(await violations(page)).toEqual([]);
      await page.click("#stop");
      await page.waitForSelector(".summary [data-verdict]", { timeout: 30_000 });
      await page.context().close();
    });

    it(`the status page meets WCAG 2.1 AA (${colorScheme})`, async () => {
      const { page } = await openPage(browser, { colorScheme, bypassCSP: true });
      await page.goto(`${service.api.url}/status`);
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      expect(await violations(page)).toEqual([]);
      await page.context().close();
    });
  }

  it("runs a program from the keyboard alone: Tab to the controls, type, Ctrl+Enter, read the result", async () => {
    const { page } = await openPage(browser);
    await page.goto(`${service.api.url}/`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    // The first Tab stops: the language picker, then Run (enabled, with an accessible name).
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("language");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("run");
    // Into the editor by Tab, type there, and out again with Escape then Tab.
    for (
      let i = 0;
      i < 8 && !(await page.evaluate(() => document.activeElement?.classList.contains("cm-content")));
      i++
    ) {
      await page.keyboard.press("Tab");
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      "Program source",
    );
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("print(6 * 7)");
    await page.keyboard.press("ControlOrMeta+Enter");
    await page.waitForSelector('.summary[data-verdict="ok"]', { timeout: 30_000 });
    expect(await page.textContent(".step .output")).toBe("42\n");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.classList.contains("cm-content"))).toBe(false);
    await page.context().close();
  });
});
