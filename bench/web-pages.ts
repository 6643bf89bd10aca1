import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import type { CDPSession, Page } from "playwright-core";
import { startApi } from "../api/start-api.ts";
import { loadConfig } from "../config/load-config.ts";
import { RedisServer } from "../redis/redis-server.ts";
import { launchBrowser } from "../test/helpers/browser.ts";

// `npm run bench:web`: what the web pages cost a browser on first load — bytes transferred (as
// Chromium's network stack counted them: headers + compressed bodies) and time to interactive
// (navigation start → the page marked itself ready: languages loaded, editor up, Run enabled; for
// /status, the first numbers drawn), on an unthrottled connection and as a slow laptop (4× CPU
// slowdown, "Fast 3G": 1.6 Mbit/s down, 150 ms round trip). Each load has a cold cache. For
// scale, the same run loads /healthz (one tiny JSON response) under the same conditions.
// Everything is served by the API on 127.0.0.1 from its own redis-server; no worker is needed.

const { values: flags } = parseArgs({ options: { loads: { type: "string", default: "5" } } });
const loads = Number(flags.loads);

interface Condition {
  name: string;
  cpuSlowdown: number;
  network: { latency: number; downloadThroughput: number; uploadThroughput: number } | null;
}

const conditions: Condition[] = [
  { name: "unthrottled", cpuSlowdown: 1, network: null },
  {
    name: "slow laptop (4x CPU, Fast 3G)",
    cpuSlowdown: 4,
    network: {
      latency: 150,
      downloadThroughput: (1.6 * 1024 * 1024) / 8,
      uploadThroughput: (750 * 1024) / 8,
    },
  },
];

async function throttle(cdp: CDPSession, condition: Condition) {
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: condition.cpuSlowdown });
  if (condition.network) {
    await cdp.send("Network.emulateNetworkConditions", { offline: false, ...condition.network });
  }
}

async function measure(page: Page, cdp: CDPSession, url: string, readySelector: string | null) {
  let bytes = 0;
  let requests = 0;
  const onFinished = (event: { encodedDataLength: number }) => {
    bytes += event.encodedDataLength;
    requests += 1;
  };
  cdp.on("Network.loadingFinished", onFinished);
  await page.goto(url, { waitUntil: "load" });
  if (readySelector) await page.waitForSelector(readySelector, { timeout: 120_000 });
  const timing = await page.evaluate(() => {
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    return { now: performance.now(), fcp: paint ? paint.startTime : null };
  });
  cdp.off("Network.loadingFinished", onFinished);
  return { bytes, requests, ttiMs: timing.now, fcpMs: timing.fcp };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cellblock-bench-web-"));
  const redis = await RedisServer.start({ dir, dieWithParent: true });
  const config = loadConfig({ REDIS_URL: redis.url, HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "silent" });
  const api = await startApi(config, pino({ level: "silent" }));
  const browser = await launchBrowser();
  try {
    const pages = [
      { name: "/ (playground)", path: "/", ready: "body[data-ready=true]" },
      { name: "/status", path: "/status", ready: "body[data-ready=true]" },
      { name: "/healthz (reference)", path: "/healthz", ready: null },
    ];
    for (const condition of conditions) {
      console.log(`\n${condition.name}, median of ${loads} cold loads`);
      console.log("page                     transferred  requests     FCP ms     TTI ms");
      for (const target of pages) {
        const results = [];
        for (let i = 0; i < loads; i++) {
          const context = await browser.newContext();
          const page = await context.newPage();
          const cdp = await context.newCDPSession(page);
          await throttle(cdp, condition);
          results.push(await measure(page, cdp, `${api.url}${target.path}`, target.ready));
          await context.close();
        }
        const kib = median(results.map((r) => r.bytes)) / 1024;
        const fcp = results.every((r) => r.fcpMs !== null) ? median(results.map((r) => r.fcpMs ?? 0)) : null;
        console.log(
          `${target.name.padEnd(24)} ${`${kib.toFixed(1)} KiB`.padStart(11)} ${String(results[0]?.requests ?? 0).padStart(9)} ${(fcp === null ? "—" : fcp.toFixed(0)).padStart(10)} ${median(
            results.map((r) => r.ttiMs),
          )
            .toFixed(0)
            .padStart(10)}`,
        );
      }
    }
  } finally {
    await browser.close();
    await api.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
