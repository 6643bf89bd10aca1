import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LanguageLimits } from "../../contract/language.ts";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import { jobHostId } from "../../contract/sandbox-identity.ts";
import { BOX_DIR, stepEnvironment } from "../../contract/step-environment.ts";
import type { SandboxHostConfig } from "../../native/index.ts";
import type { SandboxLimits, SandboxReport, SandboxSpec } from "../../native/types.ts";
import type { LanguageCheck } from "./manifest.ts";

// An image is used only after each of its languages compiled and ran its test program inside our
// own sandbox, on that image, exactly as a job would: read-only image as "/", a writable work dir
// at /box owned by the job's uid (JOB_UID inside the slot), the language's argv and limits. A
// hello-world that passes in a chroot but not in the sandbox (missing /proc use, a setuid helper, a
// JVM over its memory limit) is caught here, not by the first user. The slot is CELLBLOCK_VERIFY_SLOT
// (high, so it does not collide with a local worker's slots 0..N); the uid base is the one the
// sandbox was configured with (the images CLI passes SANDBOX_UID_BASE), so the work dir's owner is
// always the id the sandbox maps JOB_UID to.

// Verification limits when a language sets none; generous because a cold cache on a busy
// 2-core machine is slower than steady-state jobs.
const DEFAULT_LIMITS: SandboxLimits = {
  cpuTimeMs: 10_000,
  wallTimeMs: 30_000,
  memoryBytes: 512 * 2 ** 20,
  pids: 64,
  outputBytes: 1 << 20,
  fileSizeBytes: 64 * 2 ** 20,
  openFiles: 256,
  stackBytes: 64 * 2 ** 20,
  tmpfsBytes: 128 * 2 ** 20,
  cpuQuotaPercent: 0,
};

type RunSandbox = (spec: SandboxSpec) => Promise<SandboxReport>;

/** Where verification runs: CELLBLOCK_VERIFY_SLOT, and the sandbox set-up from the SANDBOX_* settings. */
export interface VerifySettings {
  slot: number;
  /** Configures the sandbox before the first check; without it, as this process already has (or the defaults). */
  hostConfig?: Partial<SandboxHostConfig>;
}

interface Sandbox {
  runSandbox: RunSandbox;
  /** First host id of slot 0 as the sandbox maps it. */
  uidBase: number;
}

/** Host configurations already applied: `images:build --all` verifies many images with one. */
const applied = new WeakSet<Partial<SandboxHostConfig>>();

async function loadSandbox(settings: VerifySettings): Promise<Sandbox> {
  try {
    // Imported lazily: building and exporting images must not need the addon, only verification does.
    const native = await import("../../native/index.ts");
    const { hostConfig } = settings;
    if (hostConfig && !applied.has(hostConfig)) {
      native.configureSandbox(hostConfig);
      applied.add(hostConfig);
    }
    const host = native.sandboxHostInfo();
    return { runSandbox: native.runSandbox, uidBase: host.config.uidBase };
  } catch (error) {
    throw new Error(
      `load the sandbox addon: ${(error as Error).message} (build it with: node scripts/build-native.mjs)`,
    );
  }
}

/** The version line: the first non-empty line of stdout, then stderr, that is not a runtime warning
 * (kotlinc's JVM prints "OpenJDK 64-Bit Server VM warning: …" before its version). */
export function versionLine(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`.split("\n").map((line) => line.trim());
  return (
    lines.find((line) => line !== "" && !/warning/i.test(line)) ?? lines.find((line) => line !== "") ?? ""
  );
}

function describeFailure(step: string, report: SandboxReport): string {
  if (report.setupError)
    return `${step}: sandbox setup failed at ${report.setupError.step}: ${report.setupError.code}`;
  const how = report.signal ?? (report.exitCode !== null ? `exit ${report.exitCode}` : report.status);
  const stderr = report.stderr.toString("utf8").trim().slice(0, 400);
  return `${step}: ${report.status} (${how}${report.stopReason ? `, ${report.stopReason}` : ""})${stderr ? `: ${stderr}` : ""}`;
}

export async function verifyLanguage(
  sandbox: Sandbox,
  rootfs: string,
  language: RecipeLanguage,
  slot: number,
): Promise<LanguageCheck> {
  const { runSandbox } = sandbox;
  const work = await mkdtemp(path.join(os.tmpdir(), `cellblock-verify-${language.id}-`));
  try {
    // Owned by the host id JOB_UID maps to in this slot (the work dir must be writable inside).
    const uid = jobHostId(sandbox.uidBase, slot);
    await chown(work, uid, uid);
    const source = path.join(work, language.sourceFile);
    await writeFile(source, language.test.source);
    await chown(source, uid, uid);
    const env = stepEnvironment(language);
    const run = (argv: string[], stdin: string, limits: LanguageLimits) =>
      runSandbox({
        rootfs: { kind: "image", path: rootfs },
        binds: [{ source: work, target: BOX_DIR, writable: true }],
        argv,
        env,
        cwd: BOX_DIR,
        stdin: Buffer.from(stdin),
        limits: { ...DEFAULT_LIMITS, ...limits },
        slot,
      });
    const versionReport = await run(language.versionCommand, "", language.limits);
    const version = versionLine(versionReport.stdout.toString("utf8"), versionReport.stderr.toString("utf8"));
    const check: LanguageCheck = {
      language: language.id,
      version,
      compileMs: null,
      runMs: 0,
      ok: false,
      error: null,
    };
    if (versionReport.status !== "ok" || versionReport.exitCode !== 0) {
      return { ...check, error: describeFailure("version", versionReport) };
    }
    if (language.compile) {
      const compiled = await run(language.compile, "", language.compileLimits);
      check.compileMs = compiled.wallTimeMs;
      if (compiled.status !== "ok" || compiled.exitCode !== 0)
        return { ...check, error: describeFailure("compile", compiled) };
    }
    const ran = await run(language.run, language.test.stdin, language.limits);
    check.runMs = ran.wallTimeMs;
    if (ran.status !== "ok" || ran.exitCode !== 0) return { ...check, error: describeFailure("run", ran) };
    const output = ran.stdout.toString("utf8");
    if (output !== language.test.expectedOutput) {
      return {
        ...check,
        error: `run: expected ${JSON.stringify(language.test.expectedOutput)}, got ${JSON.stringify(output.slice(0, 200))}`,
      };
    }
    return { ...check, ok: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Verifies every language of an image, one at a time (compilers are memory-hungry). */
export async function verifyImage(
  rootfs: string,
  languages: RecipeLanguage[],
  settings: VerifySettings,
): Promise<LanguageCheck[]> {
  const sandbox = await loadSandbox(settings);
  const checks: LanguageCheck[] = [];
  for (const language of languages)
    checks.push(await verifyLanguage(sandbox, rootfs, language, settings.slot));
  return checks;
}
