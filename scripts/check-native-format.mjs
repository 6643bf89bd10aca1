// Fails when native sources are not clang-format clean (skips loudly when clang-format is absent).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dirs = [join(root, "native", "src"), join(root, "test", "fixtures")];
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => /\.(c|cc|h)$/.test(f))
    .map((f) => join(d, f)),
);
const probe = spawnSync("clang-format", ["--version"]);
if (probe.error) {
  console.error("check-native-format: clang-format not installed; native format check SKIPPED");
  process.exit(0);
}
const r = spawnSync("clang-format", ["--dry-run", "--Werror", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
