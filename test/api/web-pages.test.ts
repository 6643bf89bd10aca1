import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWebAssets } from "../../api/web-pages.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// The web pages over HTTP with API keys on: the pages and their assets load without a key, every
// data route still needs one, and the headers say what the browser may do — a CSP with a fresh
// nonce per HTML response, no caching of HTML, immutable hashed assets, precompressed bodies.

const KEY = "web-pages-test-key-0123456789";
let redis: TestRedis;
let service: TestService;
const assets = loadWebAssets();
const script = [...assets.keys()].find((path) => /^\/assets\/playground-.*\.js$/.test(path)) ?? "";

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false, env: { API_KEYS: KEY } });
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

/**
 * A GET through node:http: the path is sent exactly as written (fetch would normalise `..`), and
 * no header is added (fetch adds Cache-Control: no-cache to conditional requests).
 */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(service.api.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the web pages", () => {
  it("are built (scripts/setup.sh runs scripts/build-web.mjs)", () => {
    expect(assets.has("/")).toBe(true);
    expect(assets.has("/status")).toBe(true);
    expect(script).not.toBe("");
  });

  it("load without an API key while data routes, /status.json included, need one", async () => {
    for (const path of ["/", "/status", script, "/favicon.svg"]) {
      expect((await service.get(path)).status, path).toBe(200);
    }
    for (const path of ["/languages", "/status.json", "/workers", "/jobs/x"]) {
      expect((await service.get(path)).status, path).toBe(401);
    }
    const authorized = await service.get("/status.json", { authorization: `Bearer ${KEY}` });
    expect(authorized.status).toBe(200);
    expect(authorized.headers.get("cache-control")).toBe("no-store");
  });

  it("serve HTML with a fresh nonce in the CSP and the page, never cached", async () => {
    const first = await service.get("/");
    const second = await service.get("/");
    const csp = first.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(await first.text()).toContain(`<meta name="csp-nonce" content="${nonce}"`);
    expect(second.headers.get("content-security-policy")).not.toBe(csp);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe");
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it("serve hashed assets as immutable, brotli-compressed when accepted, and answer 304 to a known ETag", async () => {
    const plain = await service.get(script, { "accept-encoding": "identity" });
    const body = await plain.arrayBuffer();
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8");

    const compressed = await rawGet(script, { "accept-encoding": "br, gzip" });
    expect(compressed.headers["content-encoding"]).toBe("br");
    expect(compressed.body.length).toBeLessThan(body.byteLength / 2);
    const gzip = await rawGet(script, { "accept-encoding": "gzip" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");

    const etag = plain.headers.get("etag") ?? "";
    const again = await rawGet(script, { "accept-encoding": "identity", "if-none-match": etag });
    expect(again.status).toBe(304);
  });

  it("answer 404 for unknown or escaping asset paths without touching the filesystem", async () => {
    for (const path of ["/assets/nope.js", "/assets/../package.json", "/assets/..%2f..%2fpackage.json"]) {
      const response = await rawGet(path);
      expect([401, 404], path).toContain(response.status);
      expect(response.body.toString(), path).not.toContain('"name": "cellblock"');
    }
    const missing = await service.get("/assets/nope.js");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("E_NOT_FOUND");
  });

  it("take only GET and HEAD: other methods go on to the API (and its authentication)", async () => {
    const head = await fetch(`${service.api.url}/status`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${service.api.url}/`, { method: "POST" });
    expect(post.status).toBe(401);
  });
});
