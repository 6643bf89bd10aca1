import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { redisKeys } from "../contract/queue.ts";
import type { LanguageImages } from "./language-images.ts";
import type { ResolvedLanguage, RunnableLanguage } from "./resolve-languages.ts";

// The languages this worker runs, kept current and shared with the fleet: after every resolution
// (at start, and when the images root changes) the map the dispatch gate reads is updated in place
// and the list GET /languages shows is written to Redis for the API processes.

export class WorkerLanguages {
  /** Language id → what runs it here; updated in place. */
  readonly byId = new Map<string, RunnableLanguage>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: ReturnType<typeof redisKeys>,
    private readonly images: LanguageImages,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.publish(await this.images.resolve());
    await this.images.watch(async (resolved) => {
      await this.publish(resolved);
      this.log.info({ languages: this.ids() }, "languages re-resolved after an image change");
    });
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Root filesystems in use: "host" or an image path. */
  imageNames(): string[] {
    const names = [...this.byId.values()].map((l) => (l.rootfs.kind === "host" ? "host" : l.rootfs.path));
    return [...new Set(names)];
  }

  close(): Promise<void> {
    return this.images.close();
  }

  private async publish(resolved: ResolvedLanguage[]): Promise<void> {
    this.byId.clear();
    for (const entry of resolved) this.byId.set(entry.language.id, entry.language);
    await this.redis.set(this.keys.languages, JSON.stringify(resolved.map((entry) => entry.info)));
  }
}
