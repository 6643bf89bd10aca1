// The README's language table is generated from the recipes and the recorded versions, never by
// hand: it must match, and every language a recipe defines needs a version from a verified image.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  imageLanguages,
  readVerifiedVersions,
  renderLanguageTable,
  withLanguageTable,
} from "../../rootfs-recipes/lib/language-table.ts";

const readmePath = path.resolve(import.meta.dirname, "../../README.md");

describe("the README's language table", () => {
  it("is the rendering of the recipes and verified-versions.json (run `npm run docs:languages`)", async () => {
    const readme = await readFile(readmePath, "utf8");
    const table = await renderLanguageTable(await readVerifiedVersions());
    expect(readme).toBe(withLanguageTable(readme, table));
  });

  it("has a version verified in an image for every language a recipe defines", async () => {
    const versions = await readVerifiedVersions();
    const missing = [...(await imageLanguages()).keys()].filter((id) => !versions[id]);
    expect(missing, "build these images and run `npm run docs:languages`").toEqual([]);
  });

  it("lists at least fifty languages, each once", async () => {
    const languages = await imageLanguages();
    expect(languages.size).toBeGreaterThanOrEqual(50);
  });
});

describe("compatibility names in the recipes", () => {
  it("give every Judge0 id and every Piston name or alias to one language only", async () => {
    const judge0 = new Map<number, string>();
    const piston = new Map<string, string>();
    for (const { language } of (await imageLanguages()).values()) {
      for (const id of language.judge0Ids ?? []) {
        expect(judge0.get(id), `Judge0 id ${id}`).toBeUndefined();
        judge0.set(id, language.id);
      }
      for (const name of language.piston ? [language.piston.name, ...language.piston.aliases] : []) {
        expect(piston.get(name), `Piston name ${name}`).toBeUndefined();
        piston.set(name, language.id);
      }
    }
    expect(judge0.get(71)).toBe("python");
    expect(piston.get("c++")).toBe("cpp");
  });
});
