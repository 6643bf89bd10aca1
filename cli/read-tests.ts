import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { JobTest } from "../contract/job-request.ts";

// `--tests dir`: input/expected-output pairs as competitive programming keeps them: `NAME.in` with
// `NAME.out` (or `NAME.ans`), in natural order of NAME (1, 2, 10). An input without an answer,
// or an answer without an input, is an error naming the file: a silently dropped test passes.

export interface NamedTest extends JobTest {
  name: string;
}

/** File names in natural order: 1, 2, 10. */
export const naturally = new Intl.Collator("en", { numeric: true }).compare;

export async function readTests(dir: string): Promise<NamedTest[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: Error) => {
    throw new Error(`--tests ${dir}: ${error.message}`);
  });
  const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  const inputs = [...files].filter((f) => f.endsWith(".in")).sort(naturally);
  const tests: NamedTest[] = [];
  for (const input of inputs) {
    const name = input.slice(0, -".in".length);
    const answer = [`${name}.out`, `${name}.ans`].find((f) => files.has(f));
    if (!answer) throw new Error(`--tests ${dir}: ${input} has no ${name}.out or ${name}.ans`);
    const [stdin, expectedOutput] = await Promise.all([
      readFile(path.join(dir, input), "utf8"),
      readFile(path.join(dir, answer), "utf8"),
    ]);
    tests.push({ name, stdin, expectedOutput });
  }
  const orphans = [...files].filter(
    (f) => /\.(out|ans)$/.test(f) && !files.has(`${f.replace(/\.(out|ans)$/, "")}.in`),
  );
  if (orphans.length > 0) throw new Error(`--tests ${dir}: ${orphans.join(", ")} without a matching .in`);
  if (tests.length === 0) throw new Error(`--tests ${dir}: no NAME.in / NAME.out pairs found`);
  return tests;
}
