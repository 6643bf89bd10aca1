import type { Config } from "../app/config.ts";
import type { Language } from "../contract/language.ts";
import type { LanguageInfo } from "../contract/queue.ts";
import type { RecipeLanguage } from "../contract/recipe.ts";
import type { RootfsSpec } from "../native/types.ts";
import { imagesRootFromEnv } from "../rootfs-recipes/lib/image-paths.ts";
import { listRecipeNames, loadRecipe } from "../rootfs-recipes/lib/load-recipe.ts";
import { resolveLanguages } from "../rootfs-recipes/lib/resolve-images.ts";
import { buildSandboxSpec, compileLimits, runLimits } from "./build-sandbox-spec.ts";

// Language resolution lives here and only here.
// - loadLanguageDefinitions(): static data from every recipe (the host layout's first), which the
//   API uses to validate requests without touching the sandbox.
// - loadLanguages(): what this worker can run — the host layout's languages plus those of the
//   newest verified image of each recipe (rootfs-recipes/lib/resolve-images.ts says which wins),
//   each with its real version: images were verified in the sandbox when built; host languages
//   run their versionCommand in the sandbox here, which also proves they work on this host.

export interface LanguageDefinition extends Language {
  rootfs: RootfsSpec;
}

export interface ResolvedLanguage {
  definition: LanguageDefinition;
  info: LanguageInfo;
  /** The image directory this language runs from (kept from gc while in use), or null for the host layout. */
  imageDir: string | null;
}

function definitionOf({ test: _test, ...language }: RecipeLanguage, rootfs: RootfsSpec): LanguageDefinition {
  return { ...language, rootfs };
}

export async function loadLanguageDefinitions(config: Config): Promise<LanguageDefinition[]> {
  const names = (await listRecipeNames(config.RECIPES_DIR)).filter((n) => n !== "host");
  const byId = new Map<string, LanguageDefinition>();
  for (const name of ["host", ...names]) {
    const { recipe } = await loadRecipe(name, config.RECIPES_DIR);
    const rootfs: RootfsSpec = name === "host" ? { kind: "host" } : { kind: "image", path: "" };
    for (const language of recipe.languages)
      if (!byId.has(language.id)) byId.set(language.id, definitionOf(language, rootfs));
  }
  return [...byId.values()];
}

export function languageInfo(
  definition: LanguageDefinition,
  version: string | null,
  config: Config,
): LanguageInfo {
  return {
    id: definition.id,
    name: definition.name,
    version,
    compiled: definition.compile !== null,
    sourceFile: definition.sourceFile,
    limits: runLimits({}, definition, config),
    compileLimits: definition.compile === null ? null : compileLimits(definition, config),
  };
}

/** What this worker runs: host-layout and image languages, each with its version. */
export async function loadLanguages(
  config: Config,
  slot: number,
  onWarning?: (message: string) => void,
): Promise<ResolvedLanguage[]> {
  // Imported lazily so that the API, which only needs the static definitions, never loads the addon.
  const { runSandbox } = await import("../native/index.ts");
  const entries = await resolveLanguages(imagesRootFromEnv(), {
    recipesDir: config.RECIPES_DIR,
    ...(onWarning ? { onWarning } : {}),
  });
  const resolved: ResolvedLanguage[] = [];
  for (const entry of entries) {
    const definition = definitionOf(entry.language, entry.image);
    let version: string | null = entry.version;
    if (entry.imageDir === null) {
      const spec = buildSandboxSpec({
        language: definition,
        argv: definition.versionCommand,
        workDir: null,
        stdin: Buffer.alloc(0),
        limits: { ...runLimits({}, definition, config), cpuTimeMs: 10_000, wallTimeMs: 20_000 },
        slot,
        config,
      });
      const report = await runSandbox(spec);
      const output = `${report.stdout.toString("utf8")}\n${report.stderr.toString("utf8")}`;
      const firstLine = output.split("\n").find((line) => line.trim() !== "");
      version = report.status === "ok" && firstLine ? firstLine.trim() : null;
    }
    resolved.push({ definition, info: languageInfo(definition, version, config), imageDir: entry.imageDir });
  }
  return resolved;
}
