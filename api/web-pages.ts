import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import type { NextFunction, Request, Response } from "express";
import { ServiceError } from "../contract/errors.ts";

// The playground (/) and the operations page (/status): files Vite built at install time into
// web/dist (scripts/build-web.mjs, which also writes .br and .gz copies). They are read into memory
// once when the app is built, so a URL is only ever a key of that map — no path from a request
// reaches the filesystem, and there is nothing to traverse.
//
// These routes come before authentication: a browser loads the page without a key and the page
// asks for one when the data routes answer 401. Everything they serve is public build output.
//
// Headers: hashed assets are immutable for a year; a Content-Security-Policy allows this origin
// only (scripts, styles, fetches, images), no inline script, no framing, no form posts, no <base>
// — so even injected markup could not load or send anything elsewhere. The one inline thing
// allowed is the editor's own <style> element (CodeMirror writes its theme at run time): each
// HTML response carries a fresh nonce in the CSP and in <meta name="csp-nonce">, which the editor
// puts on that element. So HTML is made per response (never cached, compressed on the fly: a few
// KiB); everything else is served from the precompressed copies.

export const WEB_DIST_DIR = path.resolve(import.meta.dirname, "../web/dist");

/** What the built HTML holds where each response's nonce goes (web/index.html, web/status.html). */
const NONCE_PLACEHOLDER = "__CSP_NONCE__";

const contentSecurityPolicy = (nonce: string | null) =>
  [
    "default-src 'none'",
    "script-src 'self'",
    nonce ? `style-src 'self' 'nonce-${nonce}'` : "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Page routes and the built file each serves; every other file keeps its path under the root. */
const pageFiles: Record<string, string> = { "index.html": "/", "status.html": "/status" };

interface Variant {
  body: Buffer;
  etag: string;
}

export interface WebAsset {
  contentType: string;
  immutable: boolean;
  /** HTML with the nonce placeholder: made per response. */
  templated: boolean;
  identity: Variant;
  br?: Variant;
  gzip?: Variant;
}

function variant(body: Buffer, encoding: string): Variant {
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
  return { body, etag: `"${hash}-${encoding}"` };
}

function listFiles(root: string, dir = ""): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.name.startsWith(".")) return [];
    return entry.isDirectory() ? listFiles(root, relative) : [relative];
  });
}

/** The built files by URL path; empty when the pages were never built. */
export function loadWebAssets(root = WEB_DIST_DIR): Map<string, WebAsset> {
  const assets = new Map<string, WebAsset>();
  if (!existsSync(root)) return assets;
  for (const file of listFiles(root)) {
    const contentType = contentTypes[path.extname(file)];
    if (!contentType) continue; // .br/.gz copies and anything unexpected (source maps) are not served as such
    const read = (suffix: string) =>
      existsSync(path.join(root, file + suffix)) ? readFileSync(path.join(root, file + suffix)) : null;
    const identity = read("") as Buffer;
    // HTML with a nonce placeholder is made per response; its precompressed copies are of no use.
    const templated = identity.includes(NONCE_PLACEHOLDER);
    const br = templated ? null : read(".br");
    const gzip = templated ? null : read(".gz");
    assets.set(pageFiles[file] ?? `/${file}`, {
      contentType,
      immutable: file.startsWith("assets/"),
      templated,
      identity: variant(identity, "id"),
      ...(br ? { br: variant(br, "br") } : {}),
      ...(gzip ? { gzip: variant(gzip, "gz") } : {}),
    });
  }
  return assets;
}

/** Serves the pages and their assets; passes every other request on (to authentication). */
export function webPages(assets: Map<string, WebAsset>) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const asset = assets.get(req.path);
    if (!asset) {
      const isPage = Object.values(pageFiles).includes(req.path);
      if (isPage || req.path.startsWith("/assets/")) {
        const hint = isPage ? " (the web pages are not built: npm run build:web)" : "";
        throw new ServiceError("E_NOT_FOUND", `${req.method} ${req.path}${hint}`);
      }
      return next();
    }
    const common = {
      "content-type": asset.contentType,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
      vary: "Accept-Encoding",
    };
    if (asset.templated) {
      const nonce = randomBytes(16).toString("base64");
      const html = Buffer.from(asset.identity.body.toString("utf8").replaceAll(NONCE_PLACEHOLDER, nonce));
      const br = req.acceptsEncodings("br", "identity") === "br";
      res.set({
        ...common,
        "cache-control": "no-store",
        "content-security-policy": contentSecurityPolicy(nonce),
      });
      if (br) res.set("content-encoding", "br");
      res.send(br ? brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }) : html);
      return;
    }
    const encoding = req.acceptsEncodings(
      ...[asset.br ? "br" : null, asset.gzip ? "gzip" : null, "identity"].filter((e) => e !== null),
    );
    const chosen =
      encoding === "br" && asset.br
        ? asset.br
        : encoding === "gzip" && asset.gzip
          ? asset.gzip
          : asset.identity;
    res.set({
      ...common,
      "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "content-security-policy": contentSecurityPolicy(null),
      etag: chosen.etag,
    });
    if (chosen !== asset.identity) res.set("content-encoding", encoding as string);
    // express answers 304 for a matching If-None-Match and leaves the body out for HEAD.
    res.send(chosen.body);
  };
}
