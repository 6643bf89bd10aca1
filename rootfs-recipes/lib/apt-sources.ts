import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

// Images are built from the distribution mirror this machine already uses (an operator's own
// mirror works offline), so the driver reads the machine's apt sources instead of hard-coding one:
// one-line `deb` entries in sources.list and *.list, and deb822 stanzas in *.sources. apt itself
// only reads those extensions, so files like "*.list.disabled" are ignored here too.

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

function parseOneLine(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*/, "").trim();
    if (!line.startsWith("deb ")) continue;
    // Drop the optional "[arch=amd64 signed-by=...]" block before splitting.
    const [uri, suite, ...components] = line
      .slice(4)
      .replace(/\[[^\]]*\]/, "")
      .trim()
      .split(/\s+/);
    if (uri && suite) sources.push({ uri, suites: [suite], components });
  }
  return sources;
}

function parseDeb822(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1] && match[2] !== undefined) fields.set(match[1].toLowerCase(), match[2].trim());
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb") || fields.get("enabled") === "no") continue;
    const split = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
    for (const uri of split("uris")) {
      sources.push({ uri, suites: split("suites"), components: split("components") });
    }
  }
  return sources;
}

/** Parses one apt sources file by its extension (.sources = deb822, otherwise one-line). */
export function parseAptSourcesFile(fileName: string, text: string): AptSource[] {
  return fileName.endsWith(".sources") ? parseDeb822(text) : parseOneLine(text);
}

/** Every enabled `deb` source of this machine, in apt's reading order. */
export async function readAptSources(etcApt = "/etc/apt"): Promise<AptSource[]> {
  const files: string[] = [];
  if (existsSync(path.join(etcApt, "sources.list"))) files.push(path.join(etcApt, "sources.list"));
  const partsDir = path.join(etcApt, "sources.list.d");
  if (existsSync(partsDir)) {
    for (const name of (await readdir(partsDir)).sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) files.push(path.join(partsDir, name));
    }
  }
  const sources: AptSource[] = [];
  for (const file of files) sources.push(...parseAptSourcesFile(file, await readFile(file, "utf8")));
  return sources;
}

export interface SuiteMirror {
  /** Mirror for debootstrap: the source that carries exactly this suite. */
  mirror: string;
  /** sources.list lines for the image: the suite and its -updates/-security companions. */
  sourcesList: string;
}

/** Picks the mirror for a Debian suite, or explains which sources were seen. */
export function mirrorForSuite(sources: AptSource[], suite: string): SuiteMirror {
  const main = sources.find((s) => s.suites.includes(suite));
  if (!main) {
    const seen = sources.map((s) => `${s.uri} ${s.suites.join(",")}`).join("; ") || "none";
    throw new Error(`apt sources: no "deb" source for suite "${suite}" (seen: ${seen}); add one to /etc/apt`);
  }
  const lines: string[] = [];
  for (const source of sources) {
    for (const s of source.suites) {
      if (s !== suite && !s.startsWith(`${suite}-`)) continue;
      const components = source.components.length > 0 ? source.components.join(" ") : "main";
      const line = `deb ${source.uri} ${s} ${components}`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  return { mirror: main.uri, sourcesList: `${lines.join("\n")}\n` };
}
