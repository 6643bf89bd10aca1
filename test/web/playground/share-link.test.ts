import { describe, expect, it } from "vitest";
import { decodeProgram, encodeProgram, type SharedProgram } from "../../../web/src/playground/share-link.ts";

// Share links carry the whole program in the URL fragment: what goes in comes out, and a damaged
// or hostile link yields nothing rather than a half-loaded page.

const program: SharedProgram = {
  language: "python",
  source: `print("ünïcode ✓ ${"x".repeat(2000)}")\n`,
  stdin: "1 2\n",
  args: ["--flag", "two words"],
  tests: [{ stdin: "3\n", expectedOutput: "6\n" }],
  compare: "tokens",
};

describe("share links", () => {
  it("round-trip every field, compressed into URL-safe characters", async () => {
    const encoded = await encodeProgram(program);
    expect(encoded).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(encoded.length).toBeLessThan(JSON.stringify(program).length / 4);
    expect(await decodeProgram(encoded)).toEqual(program);
  });

  it("yield null for a damaged, foreign or malformed link", async () => {
    const encoded = await encodeProgram(program);
    expect(await decodeProgram(`${encoded.slice(0, 40)}`)).toBeNull();
    expect(await decodeProgram("v2.abc")).toBeNull();
    expect(await decodeProgram("v1.!!!")).toBeNull();
    const notAProgram = await encodeProgram({ language: 3 } as unknown as SharedProgram);
    expect(await decodeProgram(notAProgram)).toBeNull();
  });

  it("fill in safe defaults for missing or unknown optional fields", async () => {
    const minimal = await encodeProgram({
      language: "c",
      source: "int main(){}",
      compare: "regex",
    } as unknown as SharedProgram);
    expect(await decodeProgram(minimal)).toEqual({
      language: "c",
      source: "int main(){}",
      stdin: "",
      args: [],
      tests: [],
      compare: "trim",
    });
  });
});
