import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../app/config.ts";
import type { Language } from "../contract/language.ts";
import type { LanguageInfo } from "../contract/queue.ts";
import { RecipeSchema } from "../contract/recipe.ts";
import type { RootfsSpec } from "../native/types.ts";
import { buildSandboxSpec, compileLimits, runLimits } from "./build-sandbox-spec.ts";

// Language resolution lives here and only here. Today every language comes from the zero-build
// "host" recipe; when built images land, each recipe adds its languages with rootfs {kind:"image"}.
// loadLanguageDefinitions() is static data (the API uses it to validate requests without touching
// the sandbox); loadLanguages() also asks each image for its real version through the sandbox.

export interface LanguageDefinition extends Language {
  rootfs: RootfsSpec;
}

export interface ResolvedLanguage {
  definition: LanguageDefinition;
  info: LanguageInfo;
}

export async function loadLanguageDefinitions(config: Config): Promise<LanguageDefinition[]> {
  const recipePath = path.join(config.RECIPES_DIR, "host", "recipe.json");
  const raw = await readFile(recipePath, "utf8");
  const parsed = RecipeSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new Error(`load recipe ${recipePath}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  return parsed.data.languages.map(({ test: _test, ...language }) => ({
    ...language,
    rootfs: { kind: "host" },
  }));
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

/** Static definitions plus each language's version, read by running its versionCommand in a sandbox. */
export async function loadLanguages(config: Config, slot: number): Promise<ResolvedLanguage[]> {
  // Imported lazily so that the API, which only needs the static definitions, never loads the addon.
  const { runSandbox } = await import("../native/index.ts");
  const definitions = await loadLanguageDefinitions(config);
  const resolved: ResolvedLanguage[] = [];
  for (const definition of definitions) {
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
    const version = report.status === "ok" && firstLine ? firstLine.trim() : null;
    resolved.push({ definition, info: languageInfo(definition, version, config) });
  }
  return resolved;
}
