// `npm run test:images`: the multi-file program of every image language with a build convention,
// through the HTTP API, on images already built under CELLBLOCK_IMAGES (npm run images:build).
// Java packages, Go modules, Rust crates, OCaml and Haskell modules must be there; every other
// language with a multi-file test runs when its image is built and is listed as skipped otherwise.
// Not part of `npm test`: CI starts with an empty image cache, and building these images takes
// longer than its whole budget.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import { listImages, newestVerified } from "../../rootfs-recipes/lib/image-store.ts";
import { imageLanguages } from "../../rootfs-recipes/lib/language-table.ts";
import { imagesRoot } from "../helpers/images.ts";
import { runMultiFileProgram } from "../helpers/multi-file.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

/** One language per convention the issue names; these must be built. */
const REQUIRED = ["java", "go", "rust", "ocaml", "haskell"];

const unavailable = await sandboxUnavailableReason();
const languages: RecipeLanguage[] = [...(await imageLanguages()).values()]
  .map(({ language }) => language)
  .filter((language) => language.multiFileTest !== undefined)
  .sort((a, b) => (a.id < b.id ? -1 : 1));

describe.skipIf(unavailable !== null)(
  `multi-file jobs on built images (needs ${unavailable ?? "root"})`,
  () => {
    let redis: TestRedis;
    let service: TestService;
    let available: Set<string>;
    beforeAll(async () => {
      redis = await startTestRedis();
      // Every language an image provides runs from it, the host layout's too (c, cpp, python…).
      service = await startTestService({
        redisUrl: redis.url,
        worker: true,
        env: { CELLBLOCK_LANGUAGE_IMAGES: "all" },
      });
      const listed = (await (await service.get("/languages")).json()) as { id: string }[];
      available = new Set(listed.map((l) => l.id));
    });
    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("GET /languages lists every language of every verified image, each once", async () => {
      const images = [...newestVerified(await listImages(imagesRoot)).values()];
      const fromImages = new Set(images.flatMap((image) => image.manifest.recipe.languages.map((l) => l.id)));
      const listed = (await (await service.get("/languages")).json()) as { id: string }[];
      expect(listed.length).toBe(new Set(listed.map((l) => l.id)).size);
      expect([...fromImages].filter((id) => !available.has(id))).toEqual([]);
    });

    it(`has images for ${REQUIRED.join(", ")} under ${imagesRoot}`, () => {
      expect(
        REQUIRED.filter((id) => !available.has(id)),
        "npm run images:build -- java go rust ml haskell",
      ).toEqual([]);
    });

    for (const language of languages) {
      it(`${language.id}: ${language.multiFileTest?.files.map((f) => f.path).join(" + ")}`, async (context) => {
        if (!available.has(language.id)) context.skip(`no verified image provides ${language.id} here`);
        const { result } = await runMultiFileProgram(service, language);
        expect(result.verdict, JSON.stringify(result.compile ?? result.runs[0])).toBe("accepted");
      }, 180_000);
    }
  },
);
