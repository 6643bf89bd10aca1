// Recipes are data parsed once with the contract schema; a bad recipe fails with a message that
// names the file and the field.
import { describe, expect, it } from "vitest";
import { listRecipeNames, loadRecipe, parseRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";

const good = {
  name: "tiny",
  base: "bookworm",
  packages: ["lua5.4"],
  drop: ["/usr/share/man"],
  languages: [
    {
      id: "lua",
      name: "Lua",
      versionCommand: ["/usr/bin/lua5.4", "-v"],
      sourceFile: "main.lua",
      compile: null,
      run: ["/usr/bin/lua5.4", "main.lua"],
      test: { source: "print(1)\n", expectedOutput: "1\n" },
    },
  ],
};
const parse = (value: unknown) => parseRecipe(JSON.stringify(value), "/r/tiny/recipe.json");

describe("recipe parsing", () => {
  it("a minimal recipe parses and gets the schema's defaults", () => {
    const recipe = parse(good);
    expect(recipe.languages[0]?.env).toEqual({});
    expect(recipe.languages[0]?.test.stdin).toBe("");
  });

  it("every recipe in rootfs-recipes parses, and every image recipe names a Debian suite", async () => {
    const names = await listRecipeNames();
    expect(names).toContain("host");
    expect(names).toContain("python");
    for (const name of names) {
      const { recipe } = await loadRecipe(name);
      expect(recipe.name).toBe(name);
      if (name !== "host") expect(recipe.base).toBe("bookworm");
    }
  });

  it("the language images cover every language the issue asks for", async () => {
    const ids = new Set<string>();
    for (const name of await listRecipeNames()) {
      if (name === "host") continue;
      for (const language of (await loadRecipe(name)).recipe.languages) ids.add(language.id);
    }
    const wanted = [
      "python",
      "pypy",
      "c",
      "cpp",
      "java",
      "go",
      "rust",
      "javascript",
      "typescript",
      "ruby",
      "php",
    ];
    wanted.push("perl", "lua", "bash", "pascal", "haskell", "csharp", "r", "sqlite");
    for (const id of wanted) expect(ids, id).toContain(id);
  });

  it("invalid JSON is rejected with the file name", () => {
    expect(() => parseRecipe("{", "/r/tiny/recipe.json")).toThrow(
      /recipe \/r\/tiny\/recipe.json: invalid JSON/,
    );
  });

  it("a recipe without languages is rejected naming the field", () => {
    expect(() => parse({ ...good, languages: [] })).toThrow(/languages: Array must contain at least 1/);
  });

  it("an unknown key is rejected rather than ignored", () => {
    expect(() => parse({ ...good, pakages: [] })).toThrow(/Unrecognized key.*pakages/);
  });

  it("a language with a relative-looking id or a missing run argv is rejected naming the path", () => {
    const [language] = good.languages;
    expect(() => parse({ ...good, languages: [{ ...language, id: "Lua!" }] })).toThrow(/languages\.0\.id/);
    expect(() => parse({ ...good, languages: [{ ...language, run: [] }] })).toThrow(/languages\.0\.run/);
  });

  it("a recipe whose name differs from its folder is rejected", () => {
    expect(() => parse({ ...good, name: "other" })).toThrow(/must match its folder "tiny"/);
  });

  it("two languages with one id are rejected", () => {
    const [language] = good.languages;
    expect(() => parse({ ...good, languages: [language, language] })).toThrow(/"lua" appears twice/);
  });

  it('a drop glob containing ".." is rejected before it can reach outside the image', () => {
    expect(() => parse({ ...good, drop: ["/usr/../../etc"] })).toThrow(/contains "\.\."/);
  });
});
