// The spec builder (worker/build-sandbox-spec.ts): plan, then execute — what a step's sandbox gets.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import { resolveRunLimits } from "../../contract/resolve-limits.ts";
import { buildSandboxSpec, type StepPlan } from "../../worker/build-sandbox-spec.ts";

const config = loadConfig({ SANDBOX_STACK_BYTES: String(64 << 20), SANDBOX_CPU_QUOTA_PERCENT: "50" });
const language = {
  rootfs: { kind: "image" as const, path: "/var/lib/cellblock/images/python-111111111111/rootfs" },
  env: { PYTHONDONTWRITEBYTECODE: "1", LANG: "en_US.UTF-8" },
  limits: { memoryBytes: 32 << 20 },
};
const plan = (overrides: Partial<StepPlan> = {}): StepPlan => ({
  language,
  argv: ["/usr/bin/python3", "main.py"],
  workDir: { path: "/dev/shm/cellblock-work/job-1", writable: false },
  stdin: Buffer.from("4 2\n"),
  limits: resolveRunLimits({ cpuTimeMs: 1500 }, language, config.limits),
  slot: 3,
  sandbox: config.sandbox,
  ...overrides,
});

describe("building a step's sandbox spec", () => {
  it("carries the resolved step limits and the limits no request can change", () => {
    const spec = buildSandboxSpec(plan());
    expect(spec.limits).toEqual({
      cpuTimeMs: 1500,
      wallTimeMs: config.limits.run.wallTimeMs,
      memoryBytes: 32 << 20,
      pids: config.limits.run.pids,
      outputBytes: config.limits.run.outputBytes,
      fileSizeBytes: config.sandbox.SANDBOX_FILE_SIZE_BYTES,
      openFiles: config.sandbox.SANDBOX_OPEN_FILES,
      // Capped at the memory limit: a larger stack would only turn SIGSEGV into an OOM kill.
      stackBytes: 32 << 20,
      tmpfsBytes: config.sandbox.SANDBOX_TMPFS_BYTES,
      cpuQuotaPercent: 50,
    });
  });

  it("the environment is exact: the base, then the language's own (which may override it)", () => {
    expect(buildSandboxSpec(plan()).env).toEqual({
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: "/tmp",
      LANG: "en_US.UTF-8",
      PYTHONDONTWRITEBYTECODE: "1",
    });
  });

  it("the work dir is bound at /box, read-only for runs and writable for compiles, and is the cwd", () => {
    const run = buildSandboxSpec(plan());
    expect(run.binds).toEqual([{ source: "/dev/shm/cellblock-work/job-1", target: "/box", writable: false }]);
    expect(run.cwd).toBe("/box");
    const compile = buildSandboxSpec(plan({ workDir: { path: "/w", writable: true } }));
    expect(compile.binds).toEqual([{ source: "/w", target: "/box", writable: true }]);
  });

  it("a step without files (a version probe) gets no binds and runs in /tmp", () => {
    const probe = buildSandboxSpec(plan({ workDir: null }));
    expect(probe.binds).toEqual([]);
    expect(probe.cwd).toBe("/tmp");
  });

  it("rootfs, argv, stdin and slot pass through unchanged", () => {
    const spec = buildSandboxSpec(plan());
    expect(spec.rootfs).toEqual(language.rootfs);
    expect(spec.argv).toEqual(["/usr/bin/python3", "main.py"]);
    expect(spec.stdin.toString()).toBe("4 2\n");
    expect(spec.slot).toBe(3);
  });
});
