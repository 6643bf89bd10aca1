// The shape of the house, checked on every `npm test` (docs/ARCHITECTURE.md describes it): the
// data flow api/ → contract/ ← worker/ → native/, leaf folders for configuration and Redis
// helpers, app/ only for entry points, and no import cycle anywhere. The graph is read with the
// TypeScript compiler's parser (import-graph.ts) rather than a library such as dependency-cruiser
// or madge: typescript is already a dependency, it handles the `.ts` specifiers, `import type` and
// dynamic import() exactly, and the rules fit in a few lines of test.
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, type ImportEdge, readImportGraph, repoRoot, runtimeClosure } from "./import-graph.ts";

const graph = readImportGraph();
const inFolder = (folder: string) => (file: string) => file.startsWith(`${folder}/`);
const describeEdge = (edge: ImportEdge) => `${edge.from} → ${edge.to}${edge.typeOnly ? " (type)" : ""}`;
const edgesBetween = (from: (file: string) => boolean, to: (file: string) => boolean) =>
  graph.edges.filter((edge) => from(edge.from) && to(edge.to)).map(describeEdge);

describe("the import graph", () => {
  it("is read completely: known static, type-only and dynamic edges are found and resolve to files", () => {
    const has = (from: string, to: string, kind: Partial<ImportEdge>) =>
      graph.edges.some(
        (edge) =>
          edge.from === from &&
          edge.to === to &&
          Object.entries(kind).every(([k, v]) => edge[k as keyof ImportEdge] === v),
      );
    expect(has("api/start-api.ts", "api/job-queue.ts", { typeOnly: false, dynamic: false })).toBe(true);
    expect(has("worker/dispatch-gate.ts", "worker/resolve-languages.ts", { typeOnly: true })).toBe(true);
    expect(has("worker/sandbox-host.ts", "native/index.ts", { dynamic: true })).toBe(true);
    const unresolved = graph.edges
      .filter((edge) => !existsSync(path.join(repoRoot, edge.to)))
      .map(describeEdge);
    expect(unresolved).toEqual([]);
  });

  it("api/ and worker/ never import each other, not even for a type", () => {
    expect(edgesBetween(inFolder("api"), inFolder("worker"))).toEqual([]);
    expect(edgesBetween(inFolder("worker"), inFolder("api"))).toEqual([]);
  });

  it("has no cycle anywhere, type-only imports included", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("nothing outside app/ imports app/ (entry points and their wiring)", () => {
    expect(edgesBetween((file) => !inFolder("app")(file), inFolder("app"))).toEqual([]);
  });

  it("contract/ imports only contract/: every other part may depend on it, it on none", () => {
    expect(edgesBetween(inFolder("contract"), (file) => !inFolder("contract")(file))).toEqual([]);
  });

  it("config/ and redis/ are leaves: they never import the parts they configure or serve", () => {
    const parts = (file: string) =>
      ["api", "worker", "app", "native", "redis"].some((f) => inFolder(f)(file));
    expect(edgesBetween(inFolder("config"), parts)).toEqual([]);
    const notContract = (file: string) => !inFolder("contract")(file) && !inFolder("redis")(file);
    expect(edgesBetween(inFolder("redis"), notContract)).toEqual([]);
  });

  it("native/ imports nothing of the service above it", () => {
    const above = (file: string) =>
      ["api", "worker", "app", "config", "redis"].some((f) => inFolder(f)(file));
    expect(edgesBetween(inFolder("native"), above)).toEqual([]);
  });

  it("web/ (the browser pages) imports contract/ types only, besides itself: no server code reaches the bundle", () => {
    const outside = graph.edges.filter(
      (edge) => inFolder("web")(edge.from) && !inFolder("web")(edge.to) && !inFolder("contract")(edge.to),
    );
    expect(outside.map(describeEdge)).toEqual([]);
    // Types only: contract/ holds zod schemas, which must never be bundled for the browser.
    const runtime = graph.edges.filter(
      (edge) => inFolder("web")(edge.from) && inFolder("contract")(edge.to) && !edge.typeOnly,
    );
    expect(runtime.map(describeEdge)).toEqual([]);
    const server = (file: string) => !inFolder("web")(file) && !inFolder("test")(file);
    expect(edgesBetween(server, inFolder("web"))).toEqual([]);
  });

  it("client/ and cli/ load nothing of the service: contract/ types only, so the client ships alone", () => {
    const outside = (folder: string, allowed: string[]) =>
      graph.edges.filter(
        (edge) =>
          inFolder(folder)(edge.from) &&
          !allowed.some((f) => inFolder(f)(edge.to)) &&
          !(inFolder("contract")(edge.to) && edge.typeOnly),
      );
    expect(outside("client", ["client"]).map(describeEdge)).toEqual([]);
    expect(outside("cli", ["cli", "client"]).map(describeEdge)).toEqual([]);
    const service = (file: string) => !["client", "cli", "test", "bench"].some((f) => inFolder(f)(file));
    expect(edgesBetween(service, (file) => inFolder("client")(file) || inFolder("cli")(file))).toEqual([]);
  });

  it("the API process never loads the sandbox, the spec builder, image resolution or the worker", () => {
    const loaded = [...runtimeClosure(graph, "app/api-main.ts")];
    const allowed = (file: string) =>
      ["api", "contract", "config", "redis"].some((folder) => inFolder(folder)(file)) ||
      [
        "app/api-main.ts",
        "app/run-until-signal.ts",
        // Recipe JSON only: the static language list and where recipes live.
        "rootfs-recipes/lib/language-definitions.ts",
        "rootfs-recipes/lib/load-recipe.ts",
        "rootfs-recipes/lib/image-paths.ts",
      ].includes(file);
    expect(loaded.filter((file) => !allowed(file))).toEqual([]);
    expect(loaded).toContain("api/start-api.ts");
  });
});
