import type { SandboxConfig, WorkerConfig } from "../config/load-config.ts";
import type { Language } from "../contract/language.ts";
import { type LanguageInfo, languageInfo } from "../contract/language-info.ts";
import { resolveRunLimits } from "../contract/resolve-limits.ts";
import type { RootfsSpec, SandboxReport, SandboxSpec } from "../native/types.ts";
import { resolveLanguages } from "../rootfs-recipes/lib/resolve-images.ts";
import { buildSandboxSpec } from "./build-sandbox-spec.ts";

// What this worker can run: the host layout's languages plus those of the newest verified image of
// each recipe (rootfs-recipes/lib/resolve-images.ts says which wins), each with its real version.
// Images were verified in the sandbox when built; host languages run their versionCommand in the
// sandbox here, which also proves they work on this host. The static list the API validates with
// comes from the recipes alone (rootfs-recipes/lib/language-definitions.ts).

/** A language with the root filesystem it runs on here. */
export interface RunnableLanguage extends Language {
  rootfs: RootfsSpec;
}

export interface ResolvedLanguage {
  language: RunnableLanguage;
  /** What GET /languages shows for it (published to Redis). */
  info: LanguageInfo;
  /** The image directory this language runs from (kept from gc while in use), or null for the host layout. */
  imageDir: string | null;
}

type RunSandbox = (spec: SandboxSpec) => Promise<SandboxReport>;

/** A version probe may be slow on a cold cache (a JVM), but never needs a job's limits. */
const VERSION_PROBE_LIMITS = { cpuTimeMs: 10_000, wallTimeMs: 20_000 };

export async function resolveRunnableLanguages(
  config: Pick<WorkerConfig, "images" | "limits"> & { sandbox: SandboxConfig },
  runSandbox: RunSandbox,
  slot: number,
  onWarning: (message: string) => void,
): Promise<ResolvedLanguage[]> {
  const entries = await resolveLanguages(config.images.CELLBLOCK_IMAGES, {
    languageImages: config.images.CELLBLOCK_LANGUAGE_IMAGES,
    recipesDir: config.images.RECIPES_DIR,
    onWarning,
  });
  const resolved: ResolvedLanguage[] = [];
  for (const entry of entries) {
    const { test: _test, multiFileTest: _multiFileTest, ...language } = entry.language;
    const runnable: RunnableLanguage = { ...language, rootfs: entry.image };
    const version =
      entry.imageDir === null ? await hostVersion(runnable, config, runSandbox, slot) : entry.version;
    resolved.push({
      language: runnable,
      info: languageInfo(runnable, version, config.limits),
      imageDir: entry.imageDir,
    });
  }
  return resolved;
}

/** The first output line of the language's versionCommand run in the sandbox, or null if it failed. */
async function hostVersion(
  language: RunnableLanguage,
  config: Pick<WorkerConfig, "limits"> & { sandbox: SandboxConfig },
  runSandbox: RunSandbox,
  slot: number,
): Promise<string | null> {
  const spec = buildSandboxSpec({
    language,
    argv: language.versionCommand,
    workDir: null,
    stdin: Buffer.alloc(0),
    limits: { ...resolveRunLimits({}, language, config.limits), ...VERSION_PROBE_LIMITS },
    slot,
    sandbox: config.sandbox,
  });
  const report = await runSandbox(spec);
  const output = `${report.stdout.toString("utf8")}\n${report.stderr.toString("utf8")}`;
  const firstLine = output.split("\n").find((line) => line.trim() !== "");
  return report.status === "ok" && firstLine ? firstLine.trim() : null;
}
