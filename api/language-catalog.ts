import type { Redis } from "ioredis";
import type { Config } from "../app/config.ts";
import { type LanguageInfo, LanguageInfoSchema, redisKeys } from "../contract/queue.ts";
import { type LanguageDefinition, languageInfo, loadLanguageDefinitions } from "../worker/languages.ts";

// The API validates language ids against the static definitions (no sandbox needed here) and
// lists languages with the versions a worker read from the images at its start-up.

export class LanguageCatalog {
  private constructor(
    readonly definitions: ReadonlyMap<string, LanguageDefinition>,
    private readonly redis: Redis,
    private readonly config: Config,
  ) {}

  static async load(redis: Redis, config: Config): Promise<LanguageCatalog> {
    const definitions = await loadLanguageDefinitions(config);
    return new LanguageCatalog(new Map(definitions.map((d) => [d.id, d])), redis, config);
  }

  async list(): Promise<LanguageInfo[]> {
    const published = await this.redis.get(redisKeys(this.config.QUEUE_PREFIX).languages);
    const parsed = published ? LanguageInfoSchema.array().safeParse(JSON.parse(published)) : null;
    const versions = new Map((parsed?.success ? parsed.data : []).map((info) => [info.id, info.version]));
    return [...this.definitions.values()].map((d) =>
      languageInfo(d, versions.get(d.id) ?? null, this.config),
    );
  }
}
