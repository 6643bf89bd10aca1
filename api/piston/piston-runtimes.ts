import semver from "semver";
import type { LanguageDefinition } from "../../contract/language.ts";
import type { LanguageCatalog } from "../language-catalog.ts";

// Piston runtimes are data in the recipes (`piston`: the runtime's name and aliases); a runtime's
// version is the one its worker read from the image, as semver (the semver package coerces
// "Python 3.11.2" to 3.11.2 and "5.2.15(1)-release" to 5.2.15), "0.0.0" while no worker has
// said. A request's version is a semver range ("*", "3.x", "^3.10", "3.11.2"), resolved as Piston
// does: the highest runtime version satisfying it, prereleases never matching "*".

export interface PistonRuntime {
  language: string;
  version: string;
  aliases: string[];
  definition: LanguageDefinition;
}

export async function listPistonRuntimes(catalog: LanguageCatalog): Promise<PistonRuntime[]> {
  const versions = new Map((await catalog.list()).map((info) => [info.id, info.version]));
  const runtimes: PistonRuntime[] = [];
  const seen = new Set<string>();
  for (const definition of catalog.definitions.values()) {
    if (!definition.piston || seen.has(definition.piston.name)) continue;
    seen.add(definition.piston.name);
    runtimes.push({
      language: definition.piston.name,
      version: semver.coerce(versions.get(definition.id) ?? null)?.version ?? "0.0.0",
      aliases: definition.piston.aliases,
      definition,
    });
  }
  return runtimes.sort((a, b) => (a.language < b.language ? -1 : a.language > b.language ? 1 : 0));
}

/** The runtime a (language or alias, version range) pair names, or null. */
export function resolveRuntime(runtimes: readonly PistonRuntime[], language: string, range: string) {
  const candidates = runtimes
    .filter((rt) => rt.language === language || rt.aliases.includes(language))
    .filter((rt) => semver.validRange(range) !== null && semver.satisfies(rt.version, range))
    .sort((a, b) => semver.rcompare(a.version, b.version));
  return candidates[0] ?? null;
}

/** GET /runtimes: Piston's shape. */
export function runtimeView({ language, version, aliases }: PistonRuntime) {
  return { language, version, aliases };
}
