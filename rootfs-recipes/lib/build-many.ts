import { Listr, ListrLogger, ProcessOutput } from "listr2";
import { buildImage } from "./build-image.ts";
import { loadRecipe } from "./load-recipe.ts";
import { onProgress } from "./run-command.ts";
import type { VerifySettings } from "./verify-image.ts";

// `images:build -- --all`: recipes are independent (each its own tree, its own apt archives
// directory, see apt-archives.ts), so several build at once; the first ones to need the
// debootstrap base share one run (debootstrap-base.ts). The display is listr2's: one line per
// recipe with its latest step on a terminal, plain timestamped lines otherwise (CI logs). It
// draws on stderr, like every other progress line of the driver; stdout stays for results.

export interface BuildManyOptions {
  root: string;
  recipesDir: string;
  verify: VerifySettings;
  /** Recipes building at once. */
  concurrency: number;
}

export interface BuildManyResult {
  /** Recipe name → seconds it took (0 when it was already up to date). */
  built: Map<string, number>;
  failed: Map<string, string>;
  wallSeconds: number;
}

/** Builds every named recipe, `concurrency` at a time; never stops at a failure. */
export async function buildMany(names: string[], options: BuildManyOptions): Promise<BuildManyResult> {
  const result: BuildManyResult = { built: new Map(), failed: new Map(), wallSeconds: 0 };
  const started = Date.now();
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const tasks = new Listr(
    names.map((name) => ({
      title: name,
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        const taskStarted = Date.now();
        const stop = onProgress((image, message) => {
          // On a terminal the line sits under its recipe; in a log it needs the name.
          if (image === name) task.output = process.stderr.isTTY ? message : `[${name}] ${message}`;
        });
        try {
          const { cached } = await buildImage(
            await loadRecipe(name, options.recipesDir),
            options.root,
            options.verify,
          );
          const seconds = cached ? 0 : Math.round((Date.now() - taskStarted) / 1000);
          result.built.set(name, seconds);
          task.title = cached ? `${name}: up to date` : `${name}: ready in ${seconds} s`;
        } catch (error) {
          result.failed.set(name, (error as Error).message);
          throw new Error(`${name}: ${(error as Error).message.split("\n")[0]}`);
        } finally {
          stop();
        }
      },
    })),
    {
      concurrent: options.concurrency,
      exitOnError: false,
      collectErrors: "minimal",
      rendererOptions: { logger, collapseErrors: false },
      fallbackRendererOptions: { logger },
      fallbackRendererCondition: !process.stderr.isTTY,
    },
  );
  await tasks.run();
  result.wallSeconds = Math.round((Date.now() - started) / 1000);
  return result;
}
