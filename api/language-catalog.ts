import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ApiConfig } from "../config/load-config.ts";
import { HOST_RECIPE, type LanguageDefinition } from "../contract/language.ts";
import { type LanguageInfo, LanguageInfoSchema, languageInfo } from "../contract/language-info.ts";
import { parseJsonWith } from "../contract/parse-json.ts";
import { redisKeys } from "../contract/queue.ts";
import { loadLanguageDefinitions } from "../rootfs-recipes/lib/language-definitions.ts";

// The API validates language ids against the static definitions read from the recipes (no
// sandbox, no images here), limited to the languages workers actually run: a worker publishes what
// it resolved (host layout plus built, verified images) with the versions it read. Before any
// worker has published, the host layout's languages are accepted, so a fresh service takes jobs as
// soon as it starts.

const REFRESH_MS = 5_000;

export type LanguageCatalogSettings = Pick<ApiConfig, "queue" | "limits" | "images">;

export class LanguageCatalog {
  /** The languages requests may name now; updated in place from what workers publish. */
  readonly definitions = new Map<string, LanguageDefinition>();
  private published: LanguageInfo[] | null = null;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly all: ReadonlyMap<string, LanguageDefinition>,
    private readonly redis: Redis,
    private readonly settings: LanguageCatalogSettings,
  ) {}

  static async load(redis: Redis, settings: LanguageCatalogSettings, log: Logger): Promise<LanguageCatalog> {
    const all = new Map((await loadLanguageDefinitions(settings.images.RECIPES_DIR)).map((d) => [d.id, d]));
    const catalog = new LanguageCatalog(all, redis, settings);
    await catalog.refresh();
    catalog.timer = setInterval(() => {
      catalog
        .refresh()
        .catch((error) =>
          log.warn({ err: error }, "refresh published languages failed; keeping the last list"),
        );
    }, REFRESH_MS);
    catalog.timer.unref();
    return catalog;
  }

  async refresh(): Promise<void> {
    const raw = await this.redis.get(redisKeys(this.settings.queue.QUEUE_PREFIX).languages);
    // An unreadable list counts as none published: the host layout's languages stay accepted.
    this.published = raw ? parseJsonWith(LanguageInfoSchema.array(), raw) : null;
    const available = this.published
      ? new Set(this.published.map((info) => info.id))
      : new Set([...this.all.values()].filter((d) => d.recipe === HOST_RECIPE).map((d) => d.id));
    this.definitions.clear();
    for (const [id, definition] of this.all) if (available.has(id)) this.definitions.set(id, definition);
  }

  /** What workers run (their published entries), or the host layout's languages before any has published. */
  async list(): Promise<LanguageInfo[]> {
    await this.refresh();
    if (this.published) return this.published.filter((info) => this.definitions.has(info.id));
    return [...this.definitions.values()].map((d) => languageInfo(d, null, this.settings.limits));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
