import { availableParallelism } from "node:os";
import { loadConfig } from "../config/load-config.ts";
import { sandboxHostConfig } from "../worker/sandbox-host.ts";
import { buildMany } from "./lib/build-many.ts";
import { diskUsage } from "./lib/disk-usage.ts";
import { exportImage, importImage } from "./lib/export-import.ts";
import { collectGarbage } from "./lib/gc.ts";
import { listRecipeNames } from "./lib/load-recipe.ts";
import type { VerifySettings } from "./lib/verify-image.ts";
import { formatReports, verifyRecipes } from "./lib/verify-report.ts";

// `npm run images:<verb> -- …`: build, verify, gc, export, import. Each verb is a thin call into
// lib/; the exit code is non-zero when anything failed so CI can gate on it. An entry point: the
// environment is parsed here, with the service's schema (config/env-schema.ts), and lib/ is handed
// explicit values. Verification runs in the sandbox configured as a worker's would be (uid base,
// cgroup parent), in slot CELLBLOCK_VERIFY_SLOT.

const config = loadConfig();
const root = config.images.CELLBLOCK_IMAGES;
const recipesDir = config.images.RECIPES_DIR;
const verifySettings: VerifySettings = {
  slot: config.images.CELLBLOCK_VERIFY_SLOT,
  hostConfig: sandboxHostConfig(config.sandbox, { prewarm: false }),
  operatorLimits: config.limits,
};

const USAGE = `usage: node --import tsx rootfs-recipes/cli.ts <verb> [args]
  build <name…> | --all [--jobs N]
                           build, verify and publish images (no-op when up to date), N at a time
                           (default: the number of CPUs)
  verify [name…]           re-run every language's test in the sandbox; print a table
  gc [--dry-run]           remove images no recipe's newest verified image needs and no worker uses
  export <name> [--out D]  write <name>-<hash12>.tar and its .manifest.json into D (default .)
  import <file.tar>        check and install an exported image
environment: CELLBLOCK_IMAGES (images root, default /var/lib/cellblock/images), CELLBLOCK_VERIFY_SLOT,
  SANDBOX_UID_BASE, SANDBOX_CGROUP_PARENT, CELLBLOCK_CGROUP_ROOT (see the README's configuration)`;

async function buildableNames(args: string[]): Promise<string[]> {
  if (args.includes("--all")) return (await listRecipeNames(recipesDir)).filter((n) => n !== "host");
  return args;
}

async function build(args: string[]): Promise<number> {
  const jobs = Number(option(args, "--jobs") ?? availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error("build: --jobs takes a whole number ≥ 1");
  const names = await buildableNames(args.filter((a, i) => a !== "--jobs" && args[i - 1] !== "--jobs"));
  if (names.length === 0) throw new Error("build: name a recipe or pass --all");
  // Keeps going past failures: one broken recipe must not stop the others in --all.
  const { built, failed, wallSeconds } = await buildMany(names, {
    root,
    recipesDir,
    verify: verifySettings,
    concurrency: jobs,
  });
  for (const [name, message] of failed) process.stderr.write(`build ${name}: ${message}\n`);
  process.stderr.write(
    `build: ${built.size} ready, ${failed.size} failed${failed.size > 0 ? ` (${[...failed.keys()].join(", ")})` : ""}; ${wallSeconds} s with ${jobs} at a time\n`,
  );
  return failed.size > 0 ? 1 : 0;
}

async function verify(args: string[]): Promise<number> {
  const names = args.length > 0 ? args : await buildableNames(["--all"]);
  const reports = await verifyRecipes(names, root, verifySettings);
  const trees = reports.map((r) => r.rootfs).filter((tree): tree is string => tree !== null);
  process.stdout.write(formatReports(reports, await diskUsage(trees)));
  return reports.every((r) => r.checks.every((c) => c.ok)) ? 0 : 1;
}

function option(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index === -1 ? undefined : args[index + 1];
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...args] = argv;
  switch (verb) {
    case "build":
      return build(args);
    case "verify":
      return verify(args);
    case "gc": {
      const dryRun = args.includes("--dry-run");
      const { removed, kept } = await collectGarbage(root, { dryRun, recipesDir });
      const verb = dryRun ? "would be removed" : "removed";
      process.stderr.write(`gc: ${removed.length} ${verb}, ${kept.length} images kept\n`);
      return 0;
    }
    case "export": {
      const name = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--out");
      if (!name) throw new Error("export: name the recipe whose image to export");
      const { tarFile, sidecarFile } = await exportImage(root, name, option(args, "--out") ?? ".");
      process.stdout.write(`${tarFile}\n${sidecarFile}\n`);
      return 0;
    }
    case "import": {
      const [file] = args;
      if (!file) throw new Error("import: name the .tar file to import");
      process.stdout.write(`${await importImage(root, file)}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  },
);
