// Languages from built images through the whole service: the python recipe is built (or found by
// its hash under the images root, as CI's cache keeps it), the worker is told to run python from
// it, and jobs go through HTTP → queue → worker → sandbox on the image's root filesystem.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage } from "../../rootfs-recipes/lib/build-image.ts";
import { loadRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";
import { imagesRoot, verifySettings } from "../helpers/images.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

const unavailable =
  (await sandboxUnavailableReason()) ?? (existsSync("/usr/sbin/debootstrap") ? null : "debootstrap");

describe.skipIf(unavailable !== null)(
  `languages from built images (needs ${unavailable ?? "root, the sandbox"})`,
  () => {
    let redis: TestRedis;
    let service: TestService;

    beforeAll(async () => {
      await buildImage(await loadRecipe("python"), imagesRoot, verifySettings);
      redis = await startTestRedis();
      service = await startTestService({
        redisUrl: redis.url,
        worker: true,
        env: { CELLBLOCK_LANGUAGE_IMAGES: "python:python" },
      });
    }, 20 * 60_000);

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    it("runs a python job on the python image's root filesystem, not the host's", async () => {
      const source = [
        "import os",
        "print(open('/etc/debian_version').read().strip()[:2])",
        "print(os.path.exists('/usr/bin/pypy3'), os.path.exists('/usr/bin/node'))",
        "print(sum(map(int, input().split())))",
      ].join("\n");
      const result = await runJob(service, { language: "python", source, stdin: "40 2\n" });
      expect(result.verdict, JSON.stringify(result)).toBe("ok");
      // Debian 12 inside; pypy3 is only in the image, node only on the host.
      expect(result.runs[0].stdout).toBe("12\nTrue False\n42\n");
    });

    it("lists image-only languages with the version their image's verification read", async () => {
      const languages = (await (await service.get("/languages")).json()) as {
        id: string;
        version: string | null;
      }[];
      const pypy = languages.find((l) => l.id === "pypy");
      expect(pypy?.version).toMatch(/PyPy|3\./);
      const pypyJob = await runJob(service, {
        language: "pypy",
        source: "import sys\nprint(sys.implementation.name)\n",
      });
      expect(pypyJob.runs[0].stdout).toBe("pypy\n");
    });
  },
);
