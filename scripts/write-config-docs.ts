// `npm run docs:config`: rewrites the README's configuration tables from config/env-schema.ts.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { withConfigTable } from "../config/config-table.ts";

const readme = path.resolve(import.meta.dirname, "..", "README.md");
const before = await readFile(readme, "utf8");
const after = withConfigTable(before);
if (after !== before) await writeFile(readme, after);
console.log(
  after === before
    ? "README.md: configuration tables already current"
    : "README.md: configuration tables rewritten",
);
