import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { NextFunction, Request, Response } from "express";
import { openApiDocument } from "./openapi-document.ts";

// GET /openapi.json (api/openapi-document.ts) and GET /docs, the API reference: Swagger UI
// (swagger-ui-dist, the project's own prebuilt bundle: one script and one stylesheet, no CDN, no
// fonts from elsewhere) served by this process, with our page and start-up script from
// api/docs-page/. Swagger UI rather than Redoc or Scalar: it renders OpenAPI 3.1, lets a reader
// try a request against this very service, is a dependency-free static bundle, and needs no
// inline script or style element, so the page keeps the same strict CSP as the other pages.
//
// Like the web pages, everything is read into memory when the app is built and a URL is only a
// key of that map; these routes come before authentication (they describe the API, they hold no
// data). The bundle's files sit under a path with its version, so they are cached as immutable.

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const pageDir = path.resolve(import.meta.dirname, "docs-page");

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface DocsAsset {
  contentType: string;
  immutable: boolean;
  body: Buffer;
  etag: string;
  /** Compressed on first request (the bundle is 1.7 MB; start-up should not wait for it). */
  compressed?: { br: Buffer; gzip: Buffer };
}

function asset(contentType: string, body: Buffer, immutable: boolean): DocsAsset {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { contentType, immutable, body, etag };
}

/** The routes /docs and /openapi.json serve, by URL path. */
export function loadApiDocs(): Map<string, DocsAsset> {
  const version = (
    JSON.parse(readFileSync(path.join(swaggerUiDir, "package.json"), "utf8")) as { version: string }
  ).version;
  const versioned = `/docs/assets/${version}`;
  const page = readFileSync(path.join(pageDir, "index.html"), "utf8").replaceAll(
    "__SWAGGER_UI_VERSION__",
    version,
  );
  const fromSwaggerUi = (file: string, contentType: string) =>
    asset(contentType, readFileSync(path.join(swaggerUiDir, file)), true);
  return new Map([
    ["/openapi.json", asset("application/json", Buffer.from(JSON.stringify(openApiDocument())), false)],
    ["/docs", asset("text/html; charset=utf-8", Buffer.from(page), false)],
    [
      "/docs/assets/docs-init.js",
      asset("text/javascript; charset=utf-8", readFileSync(path.join(pageDir, "docs-init.js")), false),
    ],
    [
      "/docs/assets/docs.css",
      asset("text/css; charset=utf-8", readFileSync(path.join(pageDir, "docs.css")), false),
    ],
    [
      `${versioned}/swagger-ui-bundle.js`,
      fromSwaggerUi("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ],
    [`${versioned}/swagger-ui.css`, fromSwaggerUi("swagger-ui.css", "text/css; charset=utf-8")],
    [`${versioned}/favicon-32x32.png`, fromSwaggerUi("favicon-32x32.png", "image/png")],
  ]);
}

function compressed(entry: DocsAsset): { br: Buffer; gzip: Buffer } {
  entry.compressed ??= {
    br: brotliCompressSync(entry.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 6 } }),
    gzip: gzipSync(entry.body),
  };
  return entry.compressed;
}

/** Serves /openapi.json and /docs with its assets; passes every other request on. */
export function apiDocs(assets: Map<string, DocsAsset>) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const entry = assets.get(req.path === "/docs/" ? "/docs" : req.path);
    if (!entry) return next();
    res.set({
      "content-type": entry.contentType,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "content-security-policy": contentSecurityPolicy,
      "cache-control": entry.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "Accept-Encoding",
    });
    // Tools (editors, generators) on other origins may read the description; it holds no data.
    if (req.path === "/openapi.json") res.set("access-control-allow-origin", "*");
    const encoding = entry.body.length > 1024 ? req.acceptsEncodings("br", "gzip", "identity") : "identity";
    if (encoding === "br" || encoding === "gzip") {
      res.set({ "content-encoding": encoding, etag: `${entry.etag.slice(0, -1)}-${encoding}"` });
      return res.send(compressed(entry)[encoding]);
    }
    // express answers 304 for a matching If-None-Match and leaves the body out for HEAD.
    res.set("etag", entry.etag).send(entry.body);
  };
}
