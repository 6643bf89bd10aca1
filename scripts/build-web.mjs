// Builds the web pages (web/ → web/dist) with Vite when their inputs changed since the last build,
// then writes a brotli and a gzip copy of each text file, which the API serves to browsers that
// accept them (api/web-pages.ts). "Changed" is a hash of the inputs — web/ sources, the contract
// types the pages import, and package-lock.json (library versions) — kept in web/dist/.build-stamp,
// so a fresh checkout (new mtimes, same content) does not rebuild and an edit always does.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const dist = join(web, "dist");
const stampFile = join(dist, ".build-stamp");

function files(dir, skip = new Set()) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (skip.has(path)) return [];
    return entry.isDirectory() ? files(path, skip) : [path];
  });
}

function inputsHash() {
  const inputs = [
    ...files(web, new Set([dist])),
    ...files(join(root, "contract")),
    join(root, "package-lock.json"),
  ].sort();
  const hash = createHash("sha256");
  for (const file of inputs)
    hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

const stamp = inputsHash();
const force = process.argv.includes("--force");
if (!force && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) process.exit(0);

console.error("build-web: building web/ with vite");
const { build } = await import("vite");
await build({ configFile: join(web, "vite.config.ts"), logLevel: "warn" });

const compressible = /\.(html|js|css|svg|json|txt)$/;
for (const file of files(dist)) {
  if (!compressible.test(file)) continue;
  const body = readFileSync(file);
  const br = brotliCompressSync(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  const gz = gzipSync(body, { level: 9 });
  // A copy that is not smaller is not worth a Content-Encoding.
  if (br.length < body.length) writeFileSync(`${file}.br`, br);
  if (gz.length < body.length) writeFileSync(`${file}.gz`, gz);
}
writeFileSync(stampFile, stamp);
const total = files(dist)
  .filter((f) => !/\.(br|gz)$/.test(f) && !f.endsWith(".build-stamp"))
  .reduce((sum, f) => sum + statSync(f).size, 0);
console.error(`build-web: web/dist ready (${(total / 1024).toFixed(0)} KiB before compression)`);
