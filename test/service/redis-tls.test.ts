import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, redisOptions } from "../../redis/redis-connection.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { runJob, startTestService } from "../helpers/service.ts";
import { hasOpenssl, makeTestCertificates, type TestCertificates } from "../helpers/tls-certs.ts";

// Redis as a trust boundary across hosts: a redis-server that speaks only TLS, wants a password and
// a client certificate from our private CA. The API and a worker (real sandbox) reach it through
// REDIS_URL=rediss://:password@… and the REDIS_TLS_* files, and run a job end to end; clients
// missing any of the three are refused.

const PASSWORD = "s3cret/pass@word:1";

describe.skipIf(!hasOpenssl())(
  "Redis with a password and TLS (needs the openssl CLI to make certificates)",
  () => {
    let certs: TestCertificates;
    let redis: TestRedis;

    beforeAll(async () => {
      certs = await makeTestCertificates();
      redis = await startTestRedis({
        password: PASSWORD,
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
      });
    });

    afterAll(async () => {
      await redis?.stop();
      await certs?.remove();
    });

    const tlsEnv = () => ({
      REDIS_TLS_CA_FILE: certs.caFile,
      REDIS_TLS_CERT_FILE: certs.clientCertFile,
      REDIS_TLS_KEY_FILE: certs.clientKeyFile,
    });

    /** Pings once without retrying; resolves with the error message, or "PONG". */
    async function pingOnce(settings: Parameters<typeof connectRedis>[0]): Promise<string> {
      let client: Redis | null = null;
      let lastError = "";
      try {
        client = connectRedis(settings, "test", { maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on("error", (error: Error) => {
          lastError = error.message;
        });
        return await client.ping();
      } catch (error) {
        return `${(error as Error).message} ${lastError}`;
      } finally {
        client?.disconnect();
      }
    }

    it("the API and a worker reach it with rediss://, the password and a client certificate, and run a job", async () => {
      expect(redis.url).toMatch(/^rediss:\/\/:.+@127\.0\.0\.1:\d+$/);
      const service = await startTestService({ redisUrl: redis.url, worker: true, env: tlsEnv() });
      try {
        const result = await runJob(service, { language: "bash", source: "echo over-tls" });
        expect(result.verdict).toBe("ok");
        expect(result.runs[0].stdout).toBe("over-tls\n");
        // The worker's cancel listener and the API's event stream are duplicates of the TLS connection.
        const { id } = await (await service.post("/jobs", { language: "bash", source: "sleep 30" })).json();
        expect((await service.del(`/jobs/${id}`)).status).toBe(200);
      } finally {
        await service.close();
      }
    });

    it("a client without the password, without TLS, with the wrong CA or without a client certificate is refused", async () => {
      const url = redis.url;
      expect(await pingOnce({ REDIS_URL: url, ...tlsEnv() })).toBe("PONG");
      const withoutPassword = url.replace(/:\/\/:[^@]*@/, "://");
      expect(await pingOnce({ REDIS_URL: withoutPassword, ...tlsEnv() })).toMatch(/NOAUTH|WRONGPASS/);
      expect(await pingOnce({ REDIS_URL: url.replace(/^rediss:/, "redis:") })).not.toBe("PONG");
      expect(await pingOnce({ REDIS_URL: url, ...tlsEnv(), REDIS_TLS_CA_FILE: certs.otherCaFile })).toMatch(
        /certificate/i,
      );
      expect(await pingOnce({ REDIS_URL: url, REDIS_TLS_CA_FILE: certs.caFile })).not.toBe("PONG");
    });

    it("TLS files with a plain redis:// URL, half a client certificate, or an unreadable file are refused by name", () => {
      expect(() =>
        redisOptions({ REDIS_URL: "redis://h:1", REDIS_TLS_CA_FILE: certs.caFile }, "start API"),
      ).toThrow("start API: REDIS_TLS_CA_FILE set but REDIS_URL is not rediss:// (TLS)");
      expect(() =>
        redisOptions({ REDIS_URL: "rediss://h:1", REDIS_TLS_CERT_FILE: certs.clientCertFile }, "w"),
      ).toThrow(/REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together/);
      expect(() =>
        redisOptions({ REDIS_URL: "rediss://h:1", REDIS_TLS_CA_FILE: "/nonexistent.pem" }, "w"),
      ).toThrow("w: read REDIS_TLS_CA_FILE /nonexistent.pem: ENOENT");
    });
  },
);
