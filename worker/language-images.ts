import type { Config } from "../app/config.ts";
import { imagesRootFromEnv } from "../rootfs-recipes/lib/image-paths.ts";
import { markInUse, releaseInUse } from "../rootfs-recipes/lib/in-use.ts";
import { watchImagesRoot } from "../rootfs-recipes/lib/watch-images.ts";
import { loadLanguages, type ResolvedLanguage } from "./languages.ts";

// The images this worker runs languages from: resolved at start and again whenever the images
// root changes, each marked in use (an <image>/.in-use/<pid> file) so `images:gc` keeps it while
// this worker may still start runs on it; marks of images no longer used are dropped.

export class LanguageImages {
  private inUse = new Set<string>();
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly config: Config,
    private readonly warn: (message: string) => void,
  ) {}

  async resolve(): Promise<ResolvedLanguage[]> {
    const resolved = await loadLanguages(this.config, 0, this.warn);
    const now = new Set(resolved.flatMap((l) => (l.imageDir ? [l.imageDir] : [])));
    for (const dir of now) if (!this.inUse.has(dir)) await markInUse(dir);
    for (const dir of this.inUse) if (!now.has(dir)) await releaseInUse(dir);
    this.inUse = now;
    return resolved;
  }

  async watch(onChange: (resolved: ResolvedLanguage[]) => Promise<void>): Promise<void> {
    this.stopWatching = await watchImagesRoot(imagesRootFromEnv(), () => {
      this.resolve()
        .then(onChange)
        .catch((error: Error) => this.warn(`re-resolve languages: ${error.message}`));
    });
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    for (const dir of this.inUse) await releaseInUse(dir);
    this.inUse.clear();
  }
}
