// Which rootfs runs each language: images for languages only images provide, the host layout for
// the five host languages unless the operator switches them.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseLanguageImages } from "../../config/language-images.ts";
import { resolveLanguages } from "../../rootfs-recipes/lib/resolve-images.ts";
import { makeFakeImage } from "./_fake-image.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "cellblock-resolve-"));
  await makeFakeImage(root, "python", { languages: ["python", "pypy"], hashSeed: "1" });
  await makeFakeImage(root, "java", { hashSeed: "2" });
  await makeFakeImage(root, "go", { hashSeed: "3", verified: false });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const where = (entries: Awaited<ReturnType<typeof resolveLanguages>>) =>
  Object.fromEntries(
    entries.map((e) => [e.language.id, e.image.kind === "host" ? "host" : path.basename(e.imageDir ?? "")]),
  );

describe("language resolution", () => {
  it("by default host languages stay on the host layout and image-only languages use their verified image", async () => {
    const resolved = await resolveLanguages(root, { languageImages: new Map(), onWarning: () => {} });
    const map = where(resolved);
    expect(map.python).toBe("host");
    expect(map.bash).toBe("host");
    expect(map.java).toBe("java-222222222222");
    expect(map.pypy).toBe("python-111111111111");
    expect(map.go).toBeUndefined();
    const java = resolved.find((e) => e.language.id === "java");
    expect(java?.image).toEqual({ kind: "image", path: path.join(root, "java-222222222222", "rootfs") });
    expect(java?.version).toBe("java 1.0");
  });

  it("CELLBLOCK_LANGUAGE_IMAGES=python:python moves python to its image", async () => {
    const map = where(
      await resolveLanguages(root, {
        languageImages: parseLanguageImages("python:python"),
        onWarning: () => {},
      }),
    );
    expect(map.python).toBe("python-111111111111");
    expect(map.bash).toBe("host");
  });

  it("a language switched to an image that is not built falls back to the host layout with a warning", async () => {
    const warnings: string[] = [];
    const languageImages = parseLanguageImages("bash:scripting");
    const map = where(await resolveLanguages(root, { languageImages, onWarning: (m) => warnings.push(m) }));
    expect(map.bash).toBe("host");
    expect(warnings.join("\n")).toMatch(/bash: no verified "scripting" image/);
  });
});
