import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";

// The one way a cellblock process connects to Redis. Redis is a trust boundary: whoever can write
// to it can enqueue jobs (the worker parses every job with the contract's schema, but a valid job is
// a job), read results, mint API keys. Across hosts, run it with a password (`redis://:pw@host` or
// an ACL user, `redis://user:pw@host`) and TLS (`rediss://`), and let only the API and the workers
// reach it. With `rediss://` the server's certificate is verified against the system CAs, or
// against REDIS_TLS_CA_FILE (a private CA); REDIS_TLS_CERT_FILE + REDIS_TLS_KEY_FILE present a
// client certificate, for a Redis with `tls-auth-clients yes`. TLS files with a plain `redis://`
// URL are refused rather than ignored: the operator meant the traffic to be encrypted.
// Other connections of the process are `duplicate()`s of this one, so they carry the same TLS and
// credentials.

export interface RedisConnectionSettings {
  REDIS_URL?: string | undefined;
  REDIS_TLS_CA_FILE?: string | undefined;
  REDIS_TLS_CERT_FILE?: string | undefined;
  REDIS_TLS_KEY_FILE?: string | undefined;
}

/** ioredis options for the settings (TLS material read from its files); throws naming the variable. */
export function redisOptions(settings: RedisConnectionSettings, what: string): RedisOptions {
  const url = settings.REDIS_URL;
  if (!url) throw new Error(`${what}: REDIS_URL is not set`);
  const tlsFiles = {
    REDIS_TLS_CA_FILE: settings.REDIS_TLS_CA_FILE,
    REDIS_TLS_CERT_FILE: settings.REDIS_TLS_CERT_FILE,
    REDIS_TLS_KEY_FILE: settings.REDIS_TLS_KEY_FILE,
  };
  const named = Object.entries(tlsFiles).filter(([, file]) => file);
  const secure = /^rediss:/i.test(url);
  if (!secure) {
    if (named.length > 0) {
      throw new Error(
        `${what}: ${named.map(([name]) => name).join(", ")} set but REDIS_URL is not rediss:// (TLS)`,
      );
    }
    return {};
  }
  if (Boolean(tlsFiles.REDIS_TLS_CERT_FILE) !== Boolean(tlsFiles.REDIS_TLS_KEY_FILE)) {
    throw new Error(
      `${what}: REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together (a client certificate and its key)`,
    );
  }
  const read = (name: keyof typeof tlsFiles) => {
    const file = tlsFiles[name];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${what}: read ${name} ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  };
  const ca = read("REDIS_TLS_CA_FILE");
  const cert = read("REDIS_TLS_CERT_FILE");
  const key = read("REDIS_TLS_KEY_FILE");
  return { tls: { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) } };
}

/** A connection for a long-lived process part: commands wait for a reconnect instead of failing. */
export function connectRedis(
  settings: RedisConnectionSettings,
  what: string,
  extra: RedisOptions = { maxRetriesPerRequest: null },
): Redis {
  return new Redis(settings.REDIS_URL as string, { ...redisOptions(settings, what), ...extra });
}
