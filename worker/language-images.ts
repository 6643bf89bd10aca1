import type { Logger } from "pino";
import { markInUse, releaseInUse } from "../rootfs-recipes/lib/in-use.ts";
import { watchImagesRoot } from "../rootfs-recipes/lib/watch-images.ts";
import { type ResolvedLanguage, resolveRunnableLanguages } from "./resolve-languages.ts";

// The images this worker runs languages from: resolved at start and again whenever the images
// root changes, each marked in use (an <image>/.in-use/<pid> file) so `images:gc` keeps it while
// this worker may still start runs on it; marks of images no longer used are dropped.

type ResolveConfig = Parameters<typeof resolveRunnableLanguages>[0];
type RunSandbox = Parameters<typeof resolveRunnableLanguages>[1];

/** Host-layout version probes run in slot 0: the worker resolves before it takes any job. */
const PROBE_SLOT = 0;

export class LanguageImages {
  private inUse = new Set<string>();
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly config: ResolveConfig,
    private readonly runSandbox: RunSandbox,
    private readonly log: Logger,
  ) {}

  async resolve(): Promise<ResolvedLanguage[]> {
    const resolved = await resolveRunnableLanguages(this.config, this.runSandbox, PROBE_SLOT, (message) =>
      this.log.warn(message),
    );
    const now = new Set(resolved.flatMap((l) => (l.imageDir ? [l.imageDir] : [])));
    for (const dir of now) if (!this.inUse.has(dir)) await markInUse(dir);
    for (const dir of this.inUse) if (!now.has(dir)) await releaseInUse(dir);
    this.inUse = now;
    return resolved;
  }

  async watch(onChange: (resolved: ResolvedLanguage[]) => Promise<void>): Promise<void> {
    const root = this.config.images.CELLBLOCK_IMAGES;
    this.stopWatching = await watchImagesRoot(root, () => {
      this.resolve()
        .then(onChange)
        .catch((error: Error) =>
          this.log.warn(
            { err: error },
            "re-resolve languages after an image change failed; keeping the old list",
          ),
        );
    }).catch((error: NodeJS.ErrnoException) => {
      // A rootless worker may not create the images root (root's images CLI makes it): it runs the
      // host languages, and images published there later are seen on its next start.
      if (error.code !== "EACCES" && error.code !== "EPERM") throw error;
      this.log.warn(
        { err: error, root },
        "images root missing and not creatable by this worker: not watching it; restart the worker after the first image is built",
      );
      return null;
    });
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    for (const dir of this.inUse) await releaseInUse(dir);
    this.inUse.clear();
  }
}
