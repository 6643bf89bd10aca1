import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LanguageLimits } from "../../contract/language.ts";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import {
  type OperatorLimits,
  resolveRunLimits,
  type StepLimitValues,
} from "../../contract/resolve-limits.ts";
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

// Limits of a check when the operator's defaults are not given (tests), and the limits no language
// sets (file size, open files, stack, tmpfs); generous because a cold cache on a busy 2-core machine
// is slower than steady-state jobs.
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

/** How much longer than a job's wall-time limit a check may take (see checkLimits). */
const COLD_WALL_FACTOR = 3;

type RunSandbox = (spec: SandboxSpec) => Promise<SandboxReport>;

/** Where verification runs: CELLBLOCK_VERIFY_SLOT, and the sandbox set-up from the SANDBOX_* settings. */
export interface VerifySettings {
  slot: number;
  /** Configures the sandbox before the first check; without it, as this process already has (or the defaults). */
  hostConfig?: Partial<SandboxHostConfig>;
  /** The operator's run and compile defaults: checks then run with exactly a job's limits. */
  operatorLimits?: Pick<OperatorLimits, "run" | "compile">;
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

/** One program of a check: its files, stdin and the exact output it must print. */
interface CheckProgram {
  label: string;
  files: { path: string; content: string }[];
  stdin: string;
  expectedOutput: string;
}

interface ProgramOutcome {
  compileMs: number | null;
  runMs: number;
  error: string | null;
}

/** The programs a language's check runs: the one-file test, then its multi-file test if it has one. */
function checkPrograms(language: RecipeLanguage): CheckProgram[] {
  const programs: CheckProgram[] = [
    {
      label: "",
      files: [{ path: language.sourceFile, content: language.test.source }],
      stdin: language.test.stdin,
      expectedOutput: language.test.expectedOutput,
    },
  ];
  if (language.multiFileTest) programs.push({ label: "multi-file ", ...language.multiFileTest });
  return programs;
}

/**
 * The limits a step of `language` gets: a job's own (language → operator default) when the
 * operator's defaults are known, so an image passes only if its runtime starts within what jobs
 * get; wall time ×3 because a cold page cache on a busy machine is slow to read, which wall time
 * counts and CPU time does not.
 */
function checkLimits(languageLimits: LanguageLimits, operatorDefaults: StepLimitValues | undefined) {
  if (!operatorDefaults) return { ...DEFAULT_LIMITS, ...languageLimits };
  const resolved = resolveRunLimits({}, { limits: languageLimits }, { run: operatorDefaults });
  return {
    ...DEFAULT_LIMITS,
    ...resolved,
    wallTimeMs: resolved.wallTimeMs * COLD_WALL_FACTOR,
    stackBytes: Math.min(DEFAULT_LIMITS.stackBytes, resolved.memoryBytes),
  };
}

export async function verifyLanguage(
  sandbox: Sandbox,
  rootfs: string,
  language: RecipeLanguage,
  settings: VerifySettings,
): Promise<LanguageCheck> {
  const { runSandbox } = sandbox;
  // Owned by the host id JOB_UID maps to in this slot (the work dir must be writable inside).
  const uid = jobHostId(sandbox.uidBase, settings.slot);
  const env = stepEnvironment(language);
  const runLimits = checkLimits(language.limits, settings.operatorLimits?.run);
  const compileLimits = checkLimits(language.compileLimits, settings.operatorLimits?.compile);
  const run = (work: string | null, argv: string[], stdin: string, limits: SandboxLimits) =>
    runSandbox({
      rootfs: { kind: "image", path: rootfs },
      binds: work ? [{ source: work, target: BOX_DIR, writable: true }] : [],
      argv,
      env,
      cwd: work ? BOX_DIR : "/tmp",
      stdin: Buffer.from(stdin),
      limits,
      slot: settings.slot,
    });

  const runProgram = async (program: CheckProgram): Promise<ProgramOutcome> => {
    const work = await mkdtemp(path.join(os.tmpdir(), `cellblock-verify-${language.id}-`));
    try {
      await writeWorkFiles(work, program.files, uid);
      let compileMs: number | null = null;
      if (language.compile) {
        const compiled = await run(work, language.compile, "", compileLimits);
        compileMs = compiled.wallTimeMs;
        if (compiled.status !== "ok" || compiled.exitCode !== 0)
          return { compileMs, runMs: 0, error: describeFailure(`${program.label}compile`, compiled) };
      }
      const ran = await run(work, language.run, program.stdin, runLimits);
      const outcome = { compileMs, runMs: ran.wallTimeMs, error: null };
      if (ran.status !== "ok" || ran.exitCode !== 0)
        return { ...outcome, error: describeFailure(`${program.label}run`, ran) };
      const output = ran.stdout.toString("utf8");
      if (output !== program.expectedOutput) {
        const got = JSON.stringify(output.slice(0, 200));
        return {
          ...outcome,
          error: `${program.label}run: expected ${JSON.stringify(program.expectedOutput)}, got ${got}`,
        };
      }
      return outcome;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };

  const versionReport = await run(null, language.versionCommand, "", runLimits);
  const version = versionLine(versionReport.stdout.toString("utf8"), versionReport.stderr.toString("utf8"));
  const check: LanguageCheck = {
    language: language.id,
    version,
    compileMs: null,
    runMs: 0,
    ok: false,
    error: null,
  };
  if (versionReport.status !== "ok" || versionReport.exitCode !== 0)
    return { ...check, error: describeFailure("version", versionReport) };
  const [single, ...more] = checkPrograms(language);
  if (!single) throw new Error(`language ${language.id}: no test program`);
  // The table shows the one-file test's times: comparable across languages.
  const first = await runProgram(single);
  if (first.error) return { ...check, compileMs: first.compileMs, runMs: first.runMs, error: first.error };
  for (const program of more) {
    const outcome = await runProgram(program);
    if (outcome.error)
      return { ...check, compileMs: first.compileMs, runMs: first.runMs, error: outcome.error };
  }
  return { ...check, compileMs: first.compileMs, runMs: first.runMs, ok: true };
}

/** Writes a check's files into its work dir (subdirectories included), all owned by the job's host id. */
async function writeWorkFiles(work: string, files: CheckProgram["files"], uid: number): Promise<void> {
  await chown(work, uid, uid);
  for (const file of files) {
    const target = path.join(work, file.path);
    const relativeDirs = path
      .dirname(file.path)
      .split("/")
      .filter((part) => part !== ".");
    let dir = work;
    for (const part of relativeDirs) {
      dir = path.join(dir, part);
      await mkdir(dir, { recursive: true });
      await chown(dir, uid, uid);
    }
    await writeFile(target, file.content);
    await chown(target, uid, uid);
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
  for (const language of languages) checks.push(await verifyLanguage(sandbox, rootfs, language, settings));
  return checks;
}
