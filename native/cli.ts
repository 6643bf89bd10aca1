// cellblock-sandbox: run one command in a fresh container through the same code path the worker
// uses, and print the report as JSON. For operators checking a host, and for debugging.
//
//   npx cellblock-sandbox [--cpu-ms N] [--wall-ms N] [--memory-mb N] [--pids N] [--output-bytes N]
//                         [--bind SRC:DST[:rw]]... [--image DIR] [--cwd DIR] [--env K=V]... [--stdin TEXT]
//                         [--trace] [--self-check] [--cgroup-root DIR] [--id-map subid|single]
//                         -- /absolute/program args...
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { configureSandbox, runSandbox, type SandboxSpec, selfCheck } from "./index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "cpu-ms": { type: "string", default: "2000" },
    "wall-ms": { type: "string", default: "5000" },
    "memory-mb": { type: "string", default: "256" },
    pids: { type: "string", default: "64" },
    "output-bytes": { type: "string", default: "65536" },
    "tmpfs-mb": { type: "string", default: "64" },
    bind: { type: "string", multiple: true, default: [] },
    image: { type: "string" },
    cwd: { type: "string", default: "/" },
    env: { type: "string", multiple: true, default: [] },
    stdin: { type: "string" },
    "stdin-file": { type: "string" },
    slot: { type: "string", default: "0" },
    "self-check": { type: "boolean", default: false },
    trace: { type: "boolean", default: false },
    "cgroup-root": { type: "string" },
    "id-map": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

function usage(code: number): never {
  console.error(
    "usage: cellblock-sandbox [--cpu-ms N] [--wall-ms N] [--memory-mb N] [--pids N] [--output-bytes N]\n" +
      "                         [--bind SRC:DST[:rw]]... [--image DIR] [--cwd DIR] [--env K=V]...\n" +
      "                         [--stdin TEXT | --stdin-file F] [--trace] [--self-check] -- /absolute/program [args...]\n" +
      "                         [--cgroup-root DIR] [--id-map subid|single]\n" +
      "  --trace: one JSON line per run on stderr, where the time went (phasesMs)\n" +
      "  --cgroup-root: cgroup v2, the (delegated) group to work in; --id-map: a worker that is not root maps\n" +
      "    each slot's ids from /etc/subuid and /etc/subgid (subid, default) or only its own (single)",
  );
  process.exit(code);
}

function int(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`cellblock-sandbox: --${name} must be a positive integer, got ${String(values[name])}`);
    process.exit(2);
  }
  return n;
}

if (values.help) usage(0);
let hostError: string | undefined;
try {
  const idMap = values["id-map"];
  if (idMap !== undefined && idMap !== "subid" && idMap !== "single") usage(2);
  configureSandbox({
    trace: values.trace,
    ...(values["cgroup-root"] ? { cgroupRoot: values["cgroup-root"] } : {}),
    ...(idMap ? { idMap } : {}),
  });
} catch (e) {
  hostError = (e as Error).message;
}
if (values["self-check"]) {
  const r = hostError ? { ok: false, detail: hostError } : await selfCheck();
  console.log(JSON.stringify(r, null, 2));
  process.exit(r.ok ? 0 : 1);
}
if (hostError) {
  console.error(`cellblock-sandbox: ${hostError}`);
  process.exit(1);
}
if (positionals.length === 0 || !positionals[0]?.startsWith("/")) usage(2);

const binds = (values.bind as string[]).map((b) => {
  const [source, target, mode] = b.split(":");
  if (!source || !target) usage(2);
  return { source, target, writable: mode === "rw" };
});
const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };
for (const kv of values.env as string[]) {
  const i = kv.indexOf("=");
  if (i <= 0) usage(2);
  env[kv.slice(0, i)] = kv.slice(i + 1);
}
const outputBytes = int("output-bytes");
const spec: SandboxSpec = {
  rootfs: values.image ? { kind: "image", path: values.image } : { kind: "host" },
  binds,
  argv: positionals,
  env,
  cwd: values.cwd as string,
  stdin: values["stdin-file"]
    ? readFileSync(values["stdin-file"] as string)
    : Buffer.from((values.stdin as string | undefined) ?? ""),
  limits: {
    cpuTimeMs: int("cpu-ms"),
    wallTimeMs: int("wall-ms"),
    memoryBytes: int("memory-mb") * 1024 * 1024,
    pids: int("pids"),
    outputBytes,
    fileSizeBytes: 64 << 20,
    openFiles: 256,
    stackBytes: 64 << 20,
    tmpfsBytes: int("tmpfs-mb") * 1024 * 1024,
    cpuQuotaPercent: 0,
  },
  slot: Number(values.slot),
};
const report = await runSandbox(spec);
const text = (b: Buffer) => b.toString("utf8");
console.log(JSON.stringify({ ...report, stdout: text(report.stdout), stderr: text(report.stderr) }, null, 2));
process.exit(report.status === "setup_error" ? 1 : 0);
