// CELLBLOCK_LANGUAGE_IMAGES, parsed once with the rest of the configuration.
import { describe, expect, it } from "vitest";
import { parseLanguageImages } from "../../config/language-images.ts";
import { loadConfig } from "../../config/load-config.ts";

describe("CELLBLOCK_LANGUAGE_IMAGES", () => {
  it('"all" and language:recipe pairs parse; a malformed pair is an error naming it', () => {
    expect(parseLanguageImages("all")).toBe("all");
    expect(parseLanguageImages(" python:python , c:gcc ")).toEqual(
      new Map([
        ["python", "python"],
        ["c", "gcc"],
      ]),
    );
    expect(parseLanguageImages(undefined)).toEqual(new Map());
    expect(() => parseLanguageImages("python")).toThrow(/"python" is not language:recipe/);
  });

  it("a malformed setting stops start-up with the variable's name, not the first job", () => {
    expect(() => loadConfig({ CELLBLOCK_LANGUAGE_IMAGES: "python" })).toThrow(
      /CELLBLOCK_LANGUAGE_IMAGES: "python" is not language:recipe/,
    );
    expect(loadConfig({ CELLBLOCK_LANGUAGE_IMAGES: "all" }).images.CELLBLOCK_LANGUAGE_IMAGES).toBe("all");
  });
});
