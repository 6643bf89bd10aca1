// Builds the sandbox addon with node-gyp when it is missing or older than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const native = join(root, "native");
const output = join(native, "build", "Release", "cellblock.node");

function newestSource() {
  const dir = join(native, "src");
  const files = [join(native, "binding.gyp"), ...readdirSync(dir).map((f) => join(dir, f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

if (existsSync(output) && statSync(output).mtimeMs >= newestSource()) process.exit(0);
const gyp = join(root, "node_modules", "node-gyp", "bin", "node-gyp.js");
console.error("build-native: building native/ with node-gyp");
// Build against the headers that ship with this Node (Debian's nodejs keeps them in /usr/include/node)
// rather than downloading them: the build must work offline.
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync("/usr/include/node/node.h") ? "/usr" : undefined);
const args = [gyp, "rebuild", "--directory", native, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
execFileSync(process.execPath, args, { stdio: "inherit" });
