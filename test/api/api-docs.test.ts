import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// GET /docs over HTTP with API keys on: the page and every file it names load from this process
// without a key, nothing points at another origin, and the headers hold the page to this origin.
// test/web/docs-page.test.ts renders it in a browser.

const KEY = "api-docs-test-key-0123456789";
let redis: TestRedis;
let service: TestService;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false, env: { API_KEYS: KEY } });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

/** The URLs of scripts, stylesheets and icons an HTML page loads. */
const assetUrls = (html: string) =>
  [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");

describe("GET /docs", () => {
  it("serves the reference page and every asset it loads, without a key, from this origin only", async () => {
    const page = await service.get("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    const urls = assetUrls(html);
    expect(urls.some((url) => url.endsWith("/swagger-ui-bundle.js"))).toBe(true);
    expect(urls.some((url) => url.endsWith("/swagger-ui.css"))).toBe(true);
    expect(urls).toContain("/docs/assets/docs-init.js");
    expect(html).not.toMatch(/https?:\/\//); // no CDN, no font service: the page works offline
    for (const url of urls) {
      expect(url.startsWith("/"), url).toBe(true);
      const asset = await service.get(url);
      expect(asset.status, url).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
      if (url.endsWith(".js")) expect(asset.headers.get("content-type"), url).toMatch(/^text\/javascript/);
      if (url.endsWith(".css")) expect(asset.headers.get("content-type"), url).toMatch(/^text\/css/);
      // Swagger UI's files sit under its version: they never change at that URL.
      if (url.includes("/swagger-ui")) expect(asset.headers.get("cache-control"), url).toContain("immutable");
    }
    const init = await (await service.get("/docs/assets/docs-init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });

  it("sends the bundle compressed when the client accepts it, and answers a repeat with 304", async () => {
    const bundleUrl = assetUrls(await (await service.get("/docs")).text()).find((u) =>
      u.endsWith("bundle.js"),
    );
    const first = await service.get(bundleUrl ?? "", { "accept-encoding": "br" });
    expect(first.headers.get("content-encoding")).toBe("br");
    const etag = first.headers.get("etag") ?? "";
    // fetch decodes the body; the bytes must be Swagger UI's script.
    expect((await first.text()).length).toBeGreaterThan(1_000_000);
    // node:http, not fetch: fetch adds Cache-Control: no-cache to conditional requests.
    const again = await new Promise<number>((resolve, reject) => {
      const url = new URL(bundleUrl ?? "", service.api.url);
      request(url, { headers: { "accept-encoding": "br", "if-none-match": etag } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(again).toBe(304);
  });

  it("keeps the data routes behind the key while the description is public; other paths are not files", async () => {
    expect((await service.get("/openapi.json")).status).toBe(200);
    expect((await service.get("/languages")).status).toBe(401);
    expect((await service.get("/docs/assets/nope.js")).status).toBe(401);
  });
});
