import { existsSync } from "node:fs";
import path from "node:path";
import type { DiskUsage } from "./disk-usage.ts";
import { builtDir, imageDir, rootfsOf } from "./image-paths.ts";
import { loadRecipe } from "./load-recipe.ts";
import { type LanguageCheck, readManifest } from "./manifest.ts";
import { recipeHash } from "./recipe-hash.ts";
import { progress } from "./run-command.ts";
import { type VerifySettings, verifyImage } from "./verify-image.ts";

// `images:verify`: re-runs every language test of each recipe's current image (published, or
// built and waiting for verification) in the sandbox and prints one table row per language, plus
// one line per image with its size and build time. Read-only: it never publishes or deletes.

export interface ImageReport {
  image: string;
  sizeBytes: number;
  buildMs: number;
  checks: LanguageCheck[];
  /** The image's rootfs, when it exists. */
  rootfs: string | null;
}

/** Verifies the current image of each named recipe under `root`. */
export async function verifyRecipes(
  names: string[],
  root: string,
  verify: VerifySettings,
): Promise<ImageReport[]> {
  const reports: ImageReport[] = [];
  for (const name of names) {
    const loaded = await loadRecipe(name);
    const hash = await recipeHash(loaded.recipe, loaded.dir);
    const dir = [imageDir(root, name, hash), builtDir(root, name, hash)].find((d) => existsSync(rootfsOf(d)));
    const manifest = dir ? await readManifest(dir) : null;
    if (!dir || !manifest) {
      progress(
        name,
        `no image for the current recipe (hash ${hash.slice(0, 12)}); run images:build -- ${name}`,
      );
      const missing = (id: string) => ({
        language: id,
        version: "",
        compileMs: null,
        runMs: 0,
        ok: false,
        error: "no image",
      });
      reports.push({
        image: name,
        sizeBytes: 0,
        buildMs: 0,
        checks: loaded.recipe.languages.map((l) => missing(l.id)),
        rootfs: null,
      });
      continue;
    }
    progress(name, `verify ${path.basename(dir)}`);
    const checks = await verifyImage(rootfsOf(dir), loaded.recipe.languages, verify);
    reports.push({
      image: path.basename(dir),
      sizeBytes: manifest.tree.sizeBytes,
      buildMs: manifest.buildMs,
      checks,
      rootfs: rootfsOf(dir),
    });
  }
  return reports;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Markdown tables: one row per language, then one row per image, then the totals. */
export function formatReports(reports: ImageReport[], disk?: DiskUsage): string {
  const ms = (value: number | null) => (value === null ? "–" : value.toFixed(0));
  const languageRows = reports.flatMap((r) =>
    r.checks.map((c) => [
      c.language,
      c.version,
      ms(c.compileMs),
      ms(c.runMs),
      c.ok ? "ok" : `FAIL: ${c.error ?? ""}`.slice(0, 120),
    ]),
  );
  const imageRows = reports.map((r) => [
    r.image,
    (r.sizeBytes / 2 ** 20).toFixed(0),
    (r.buildMs / 1000).toFixed(0),
  ]);
  const checks = reports.flatMap((r) => r.checks);
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);
  const totals = [
    `${checks.filter((c) => c.ok).length} of ${checks.length} languages ok in ${reports.length} images`,
    disk
      ? `disk: ${gib(disk.separateBytes)} GiB as separate trees, ${gib(disk.onDiskBytes)} GiB with shared files stored once`
      : "",
  ].filter(Boolean);
  return `${table(["language", "version", "compile ms", "run ms", "ok"], languageRows)}\n\n${table(["image", "size MiB", "build s"], imageRows)}\n\n${totals.join("\n")}\n`;
}
