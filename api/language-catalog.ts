import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { type LanguageInfo, LanguageInfoSchema, redisKeys } from "../contract/queue.ts";
import { type LanguageDefinition, languageInfo, loadLanguageDefinitions } from "../worker/languages.ts";

// The API validates language ids against static definitions (no sandbox needed here), limited to
// the languages workers actually run: a worker publishes what it resolved (host layout plus built,
// verified images) with the versions it read. Before any worker has published, the host layout's
// languages are accepted, so a fresh service takes jobs as soon as it starts.

const REFRESH_MS = 5_000;

export class LanguageCatalog {
  /** The languages requests may name now; updated in place from what workers publish. */
  readonly definitions = new Map<string, LanguageDefinition>();
  private published: LanguageInfo[] | null = null;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly all: ReadonlyMap<string, LanguageDefinition>,
    private readonly redis: Redis,
    private readonly config: Config,
  ) {}

  static async load(redis: Redis, config: Config): Promise<LanguageCatalog> {
    const all = new Map((await loadLanguageDefinitions(config)).map((d) => [d.id, d]));
    const catalog = new LanguageCatalog(all, redis, config);
    await catalog.refresh();
    catalog.timer = setInterval(() => catalog.refresh().catch(() => undefined), REFRESH_MS);
    catalog.timer.unref();
    return catalog;
  }

  async refresh(): Promise<void> {
    const raw = await this.redis.get(redisKeys(this.config.QUEUE_PREFIX).languages);
    const parsed = raw ? LanguageInfoSchema.array().safeParse(JSON.parse(raw)) : null;
    this.published = parsed?.success ? parsed.data : null;
    const available = this.published
      ? new Set(this.published.map((info) => info.id))
      : new Set([...this.all.values()].filter((d) => d.rootfs.kind === "host").map((d) => d.id));
    this.definitions.clear();
    for (const [id, definition] of this.all) if (available.has(id)) this.definitions.set(id, definition);
  }

  /** What workers run (their published entries), or the host layout's languages before any has published. */
  async list(): Promise<LanguageInfo[]> {
    await this.refresh();
    if (this.published) return this.published.filter((info) => this.definitions.has(info.id));
    return [...this.definitions.values()].map((d) => languageInfo(d, null, this.config));
  }

  close(): void {
    clearInterval(this.timer);
  }
}
