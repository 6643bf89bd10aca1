// Configuration is read in one place: entry points hand the environment to config/load-config.ts
// (env → zod → frozen groups), and everything else is given the values it needs. A `process.env`
// anywhere else is a variable the README's table does not know about.
// native/ counts too: the sandbox front is configured by its caller through SandboxHostConfig. Test
// files are left out: they set variables for the processes they start.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readImportGraph, repoRoot } from "./import-graph.ts";

/** Entry points: they read the environment to parse it, or to pass it to the processes they start. */
const entryPoints = new Set([
  "config/load-config.ts",
  "app/start.ts",
  "bench/service.ts",
  "bench/service-budget.ts",
  "bench/batch.ts",
  "bench/compat.ts",
  "bench/run-timeline.ts",
  "bench/worker-rss.ts",
  "cli/cellblock.ts",
]);

describe("reading the environment", () => {
  it("only entry points touch process.env", () => {
    const readers = readImportGraph()
      .files.filter((file) => !file.startsWith("test/"))
      .filter((file) => readFileSync(path.join(repoRoot, file), "utf8").includes("process.env"));
    expect(readers.filter((file) => !entryPoints.has(file))).toEqual([]);
  });
});
