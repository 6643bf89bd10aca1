// `npm run test:images`: real-program features on every built image, under the sandbox policy a
// job gets (issue 9's seccomp refinements, ioctl allowlist, /proc masks, rlimits). images:verify
// runs one small test per language; these programs go further (threads, subprocesses, signals,
// temp files, file watching, localhost), so a policy change that breaks a runtime's ordinary
// machinery fails here with the feature named. Each runs like a verification: the language's own
// compile and run commands and limits, in CELLBLOCK_VERIFY_SLOT. A language whose image is not
// built is skipped.
import { describe, expect, it } from "vitest";
import type { RecipeLanguage } from "../../contract/recipe.ts";
import { rootfsOf } from "../../rootfs-recipes/lib/image-paths.ts";
import { listImages, newestVerified } from "../../rootfs-recipes/lib/image-store.ts";
import { verifyImage } from "../../rootfs-recipes/lib/verify-image.ts";
import { imagesRoot, verifySettings } from "../helpers/images.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { RUNTIME_PROGRAMS } from "./_runtime-programs.ts";

/** Languages that run another language's program (same runtime, other implementation). */
const SAME_PROGRAM: Record<string, string> = { pypy: "python" };

const unavailable = await sandboxUnavailableReason();
const providers = new Map<string, { rootfs: string; language: RecipeLanguage }>();
for (const image of newestVerified(await listImages(imagesRoot)).values())
  for (const language of image.manifest.recipe.languages)
    providers.set(language.id, { rootfs: rootfsOf(image.dir), language });
const ids = [...Object.keys(RUNTIME_PROGRAMS), ...Object.keys(SAME_PROGRAM)].sort();

describe.skipIf(unavailable !== null)(
  `runtime features in the sandbox (needs ${unavailable ?? "root"})`,
  () => {
    it.for(ids)(
      "%s: threads, subprocesses, timers, temp files and /box work",
      { timeout: 180_000 },
      async (id, context) => {
        const provider = providers.get(id);
        if (!provider) return context.skip(`no verified image provides ${id} under ${imagesRoot}`);
        const source = RUNTIME_PROGRAMS[SAME_PROGRAM[id] ?? id] ?? "";
        const program: RecipeLanguage = {
          ...provider.language,
          test: { source, stdin: "", expectedOutput: "ok\n" },
          multiFileTest: undefined,
        };
        const [check] = await verifyImage(provider.rootfs, [program], verifySettings);
        expect(check?.error ?? null).toBeNull();
      },
    );
  },
);
