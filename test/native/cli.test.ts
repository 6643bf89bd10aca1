// npx cellblock-sandbox: the operator's way to run one command through the worker's code path.
// --trace is the only way to the per-run timing line (native/ reads no environment variables).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SANDBOX_PHASES } from "../../native/types.ts";
import { EMULATION_SLOWDOWN } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

const CLI = path.resolve(import.meta.dirname, "../../bin/cellblock-sandbox.mjs");
const SLOT = "41"; // away from other files' slots

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, "--slot", SLOT, ...args], {
    encoding: "utf8",
    timeout: 30_000 * EMULATION_SLOWDOWN, // node's start-up
    env: { ...process.env, ...env },
  });
  return { status: r.status, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

describe("cellblock-sandbox CLI", () => {
  it("--trace prints one JSON line per run on stderr with the time of every phase", () => {
    const { status, report, stderr } = cli(["--trace", "--", "/bin/true"]);
    expect(status, stderr).toBe(0);
    expect(report.status).toBe("ok");
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    const trace = JSON.parse(lines[0] as string);
    expect(trace).toMatchObject({ trace: "sandbox", argv0: "/bin/true", status: "ok" });
    expect(Object.keys(trace.phasesMs)).toEqual([...SANDBOX_PHASES]);
  });

  it("without --trace prints the report and nothing on stderr, whatever CELLBLOCK_TRACE says", () => {
    const { status, report, stderr } = cli(["--", "/bin/sh", "-c", "echo hi"], { CELLBLOCK_TRACE: "1" });
    expect(status, stderr).toBe(0);
    expect(report).toMatchObject({ status: "ok", stdout: "hi\n" });
    expect(stderr).toBe("");
  });
});
