// docs/ARCHITECTURE.md stays true about where things are: every repository path it names in
// backticks exists. A path with a folder must exist as written, from the root or under one of the
// top-level folders (the native section names `src/addon.cc` inside native/); a bare file name
// (`job-queue.ts`, named inside its folder's section) must be some file of the repository.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./import-graph.ts";

const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: repoRoot,
  encoding: "utf8",
})
  .split("\n")
  .filter(Boolean);
const dirs = new Set(
  tracked.flatMap((file) =>
    file
      .split("/")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
  ),
);
const basenames = new Set([...tracked, ...dirs].map((entry) => path.posix.basename(entry)));
const dirNames = new Set([...dirs].map((dir) => path.posix.basename(dir)));
const fileExtension = /\.(ts|mjs|c|cc|h|json|md|sh|yml)$/;

/**
 * Backticked tokens that look like repository paths: a file name with a source extension, or a
 * path whose first folder is a folder of the repository (not /proc paths, globs or key patterns).
 */
function namedPaths(markdown: string): string[] {
  const tokens = [...markdown.matchAll(/`([^`\s]+)`/g)].map((match) => match[1] ?? "");
  const looksLikePath = (token: string) =>
    token.includes("/") ? dirNames.has(token.split("/")[0] ?? "") : fileExtension.test(token);
  const paths = tokens.filter(
    (token) => !token.startsWith("/") && !/[<>*:=…{}()]/.test(token) && looksLikePath(token),
  );
  return [...new Set(paths)];
}

function exists(token: string): boolean {
  const clean = token.replace(/\/$/, "");
  if (!clean.includes("/")) return basenames.has(clean) || dirs.has(clean);
  return (
    tracked.some((file) => file === clean || file.endsWith(`/${clean}`)) ||
    [...dirs].some((dir) => dir === clean || dir.endsWith(`/${clean}`))
  );
}

describe("docs/ARCHITECTURE.md", () => {
  const markdown = readFileSync(path.join(repoRoot, "docs/ARCHITECTURE.md"), "utf8");

  it("names only paths that exist", () => {
    const named = namedPaths(markdown);
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((token) => !exists(token))).toEqual([]);
  });

  it("the check catches a stale name", () => {
    expect(namedPaths("see `api/admin-auth.ts` and `worker/languages.ts`").filter((t) => !exists(t))).toEqual(
      ["api/admin-auth.ts", "worker/languages.ts"],
    );
  });
});
