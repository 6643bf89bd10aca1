import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { startTestService } from "../helpers/service.ts";

// A worker whose sandbox fails its self-check refuses to start; /readyz then says why, so an
// operator sees the missing prerequisite from the API rather than only in the worker's log.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED readiness refusal test: ${unavailable}`);

let redis: TestRedis;

describe.skipIf(unavailable !== null)(
  `/readyz after a refused worker ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("names why the last worker refused to start, and forgets it once a worker starts", async () => {
      const env = { QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}` };
      // A uid base whose slot range runs past 2^32: writing the id map fails, so the self-check does.
      await expect(
        startTestService({
          redisUrl: redis.url,
          worker: true,
          env: { ...env, SANDBOX_UID_BASE: "4294967000" },
        }),
      ).rejects.toThrow(/self-check failed/);
      const api = await startTestService({ redisUrl: redis.url, worker: false, env });
      try {
        const response = await api.get("/readyz");
        expect(response.status).toBe(503);
        const body = await response.json();
        expect(body.error.message).toMatch(
          /a worker on .+ refused to start at .+: start worker: sandbox self-check failed/,
        );
        // A worker that starts clears the refusal; wait until it is fully up (its heartbeat makes
        // /readyz ready) before closing it, so nothing of its start-up is cut off mid-way.
        const worker = await startTestService({ redisUrl: redis.url, worker: true, env });
        try {
          await eventually(async () => (await api.get("/readyz")).status === 200, {
            what: "/readyz ready once a worker runs",
          });
        } finally {
          await worker.close();
        }
        expect((await (await api.get("/readyz")).json()).error?.message ?? "").not.toContain("refused");
      } finally {
        await api.close();
      }
    }, 120_000);
  },
);
