import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";

// The service's core promises on whatever kernel this runs on, one POST /run each: the host
// languages, a memory bomb, a fork bomb, a CPU hog, and accounting that adds up. `npm run test:v2`
// runs this file on a real cgroup v2 kernel (in a VM); on the CI host it runs on cgroup v1.
// Limits are generous in time: under the VM's emulation everything runs 8-42x slower, and a memory
// bomb's reclaim must not run into the CPU limit first.

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED service smoke test: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

const MiB = 1 << 20;

describe.skipIf(unavailable !== null)(
  `the service on this kernel ${unavailable ? `(${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      redis = await startTestRedis();
      service = await startTestService({
        redisUrl: redis.url,
        worker: true,
        env: {
          WORKER_SLOTS: "1",
          // Room for emulation's slowness (test:v2); the limits below stay the same everywhere.
          MAX_CPU_TIME_MS: "30000",
          MAX_WALL_TIME_MS: "60000",
        },
      });
    }, 180_000);

    afterAll(async () => {
      await service?.close();
      await redis?.stop();
    });

    const programs: Record<string, string> = {
      python: "import sys\nprint(sum(range(1001)), sys.stdin.read().strip())\n",
      bash: 'read -r line; echo "$((500 * 1001))" "$line"\n',
      c: '#include <stdio.h>\nint main(void){char s[16];scanf("%15s",s);printf("%d %s\\n",500*1001,s);return 0;}\n',
    };
    for (const [language, source] of Object.entries(programs)) {
      it(`${language} reads stdin, prints, exits 0, and its CPU, wall time and memory are accounted`, async () => {
        const result = await runJob(service, {
          language,
          source,
          stdin: "v2\n",
          limits: { cpuTimeMs: 20_000 },
        });
        expect(result.verdict, JSON.stringify(result)).toBe("ok");
        const run = result.runs[0];
        expect(run.stdout).toBe("500500 v2\n");
        expect(run.usage.cpuTimeMs).toBeGreaterThan(0);
        expect(run.usage.wallTimeMs).toBeGreaterThan(0);
        // Any real process maps its program and libc: more than 100 KiB, less than the limit.
        expect(run.usage.peakMemoryBytes).toBeGreaterThan(100 * 1024);
        expect(run.usage.peakMemoryBytes).toBeLessThan(256 * MiB);
      }, 180_000);
    }

    it("a memory bomb ends memory_limit with its peak at the limit, and the next job runs", async () => {
      const result = await runJob(service, {
        language: "python",
        source: "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))\n",
        limits: { memoryBytes: 64 * MiB, cpuTimeMs: 30_000, wallTimeMs: 60_000 },
      });
      expect(result.verdict, JSON.stringify(result)).toBe("memory_limit");
      expect(result.runs[0].usage.peakMemoryBytes).toBeGreaterThan(48 * MiB);
      expect(result.runs[0].usage.peakMemoryBytes).toBeLessThanOrEqual(64 * MiB);
      const next = await runJob(service, { language: "bash", source: "echo alive" });
      expect(next.runs[0].stdout).toBe("alive\n");
    }, 180_000);

    it("a fork bomb is stopped at its limits and the next job runs", async () => {
      const result = await runJob(service, {
        language: "bash",
        source: "bomb() { bomb | bomb & }; bomb; sleep 1000\n",
        limits: { pids: 32, cpuTimeMs: 5_000, wallTimeMs: 5_000 },
      });
      expect(["time_limit", "runtime_error"], JSON.stringify(result)).toContain(result.verdict);
      const next = await runJob(service, { language: "bash", source: "echo alive" });
      expect(next.runs[0].stdout).toBe("alive\n");
    }, 180_000);

    it("a CPU hog ends time_limit with its CPU time at the limit", async () => {
      const result = await runJob(service, {
        language: "c",
        source: "int main(void){volatile unsigned long n=0;for(;;)n++;}\n",
        limits: { cpuTimeMs: 1_000, wallTimeMs: 30_000 },
      });
      expect(result.verdict, JSON.stringify(result)).toBe("time_limit");
      expect(result.runs[0].stopReason).toBe("cpu_time");
      expect(result.runs[0].usage.cpuTimeMs).toBeGreaterThanOrEqual(1_000);
      expect(result.runs[0].usage.cpuTimeMs).toBeLessThan(3_000);
    }, 180_000);
  },
);
