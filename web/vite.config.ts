import path from "node:path";
import { defineConfig } from "vite";

// The two pages are built into web/dist at install time (scripts/build-web.mjs) and served by the
// API process (api/web-pages.ts). Everything is bundled from node_modules: the pages never load
// anything from another origin, and their CSP says so.

const root = import.meta.dirname;

export default defineConfig({
  root,
  base: "/",
  publicDir: path.join(root, "public"),
  logLevel: "warn",
  build: {
    outDir: path.join(root, "dist"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The polyfill is for browsers without <link rel=modulepreload>; every browser that runs
    // CodeMirror 6 has it.
    modulePreload: { polyfill: false },
    // No data: URIs for scripts or styles; small images may be inlined (img-src allows data:).
    assetsInlineLimit: 2048,
    rollupOptions: {
      input: {
        playground: path.join(root, "index.html"),
        status: path.join(root, "status.html"),
      },
    },
  },
});
