import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { RedisServer, type RedisServerOptions } from "../../redis/redis-server.ts";

// A real redis-server for one test file: free port, temp data dir (AOF on), removed on stop.
// restart() keeps port and dir, so the AOF is replayed — the durability test uses it.

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  pid: () => number | undefined;
  /**
   * Stops redis-server (SIGKILL by default: nothing gets a chance to flush) and starts it again,
   * after `downMs` (Redis unreachable meanwhile).
   */
  restart(signal?: NodeJS.Signals, downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestRedis(
  options: Pick<RedisServerOptions, "password" | "tls"> = {},
): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cellblock-test-redis-"));
  const server = await RedisServer.start({ dir, dieWithParent: true, ...options });
  return {
    url: server.url,
    port: server.port,
    dir,
    pid: () => server.pid,
    async restart(signal: NodeJS.Signals = "SIGKILL", downMs = 0) {
      await server.stop(signal);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.launch();
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A test Redis and one client for the whole test file (started in beforeAll, stopped in afterAll).
 * Read `client` only inside tests and hooks.
 */
export function redisClientForFile(): { readonly client: Redis } {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startTestRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return {
    get client(): Redis {
      if (!client) throw new Error("the test Redis is used before beforeAll started it");
      return client;
    },
  };
}

/** How many times Redis has run `command` since it started (INFO commandstats). */
export async function commandCalls(client: Redis, command: string): Promise<number> {
  const stats = await client.info("commandstats");
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}
