import type { LanguageDefinition } from "../../contract/language.ts";
import type { LanguageCatalog } from "../language-catalog.ts";

// Judge0 language ids are data in the recipes (`judge0Ids`: the standard CE id first, then the
// newer hosted-CE ids as aliases). Every id of every language workers run is listed, aliases
// included, so a client that maps "Python" to 71 and one that maps it to 109 both find it. Names
// follow Judge0's "Language (Version)" form with the version the worker read from its image.

export interface Judge0Language {
  id: number;
  name: string;
  definition: LanguageDefinition;
}

/** "Python 3.11.2" → "3.11.2"; a version without digits is kept whole. */
export function shortVersion(version: string | null): string | null {
  if (version === null) return null;
  return /\d+(?:\.\d+)+/.exec(version)?.[0] ?? (version.trim() || null);
}

function judge0Name(name: string, version: string | null): string {
  if (version === null) return name;
  // "C (GCC)" → "C (GCC 12.2.0)"; "Python 3" → "Python 3 (3.11.2)".
  return name.endsWith(")") ? `${name.slice(0, -1)} ${version})` : `${name} (${version})`;
}

/** Judge0 id → the language it runs, among the languages requests may name now. */
export function judge0IdMap(
  definitions: ReadonlyMap<string, LanguageDefinition>,
): Map<number, LanguageDefinition> {
  const byId = new Map<number, LanguageDefinition>();
  for (const definition of definitions.values())
    for (const id of definition.judge0Ids ?? []) if (!byId.has(id)) byId.set(id, definition);
  return byId;
}

/** Every Judge0 id served now, with names and versions from what workers publish, sorted by name then id. */
export async function listJudge0Languages(catalog: LanguageCatalog): Promise<Judge0Language[]> {
  const versions = new Map((await catalog.list()).map((info) => [info.id, shortVersion(info.version)]));
  const entries: Judge0Language[] = [];
  for (const [id, definition] of judge0IdMap(catalog.definitions)) {
    entries.push({ id, name: judge0Name(definition.name, versions.get(definition.id) ?? null), definition });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
}

/** GET /languages/:id: Judge0's detail shape; the commands are our argv joined for reading. */
export function languageDetail(language: Judge0Language) {
  const { definition } = language;
  return {
    id: language.id,
    name: language.name,
    is_archived: false,
    source_file: definition.sourceFile,
    compile_cmd: definition.compile ? definition.compile.join(" ") : null,
    run_cmd: definition.run.join(" "),
  };
}
