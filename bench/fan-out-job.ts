import type { Config } from "../config/load-config.ts";
import { resolveRunLimits } from "../contract/resolve-limits.ts";
import { runSandbox } from "../native/index.ts";
import { startWorkerProcess } from "../test/helpers/worker-process.ts";
import { buildSandboxSpec } from "../worker/build-sandbox-spec.ts";
import { hostLanguages } from "./host-languages.ts";

// Part of `npm run bench:batch`: one job of N python tests (default 50) on an idle worker with 2
// slots, then with 1 slot (worker/fan-out-tests.ts spreads a job's tests over free slots), each
// the median of a few runs, wall time from POST /run to its answer. The reference in the same
// run: the same N sandbox runs of the same program, one after another on one slot, then two at
// a time on two slots — what the sandbox alone gains from a second slot on this machine.

const program = "print(input())";

export interface FanOutFigures {
  tests: number;
  jobMs: { twoSlots: number; oneSlot: number };
  ratioTwoToOne: number;
  sandboxOnlyMs: { twoSlots: number; oneSlot: number };
  sandboxOnlyRatioTwoToOne: number;
}

/** Needs the sandbox configured in this process (for the reference) and no worker running. */
export async function measureFanOut(
  env: NodeJS.ProcessEnv,
  apiUrl: string,
  config: Config,
  options: { tests: number; repeats: number; referenceSlots: [number, number] },
): Promise<FanOutFigures> {
  const { tests, repeats } = options;
  const job = {
    language: "python",
    source: program,
    tests: Array.from({ length: tests }, (_, i) => ({ stdin: `${i}\n`, expectedOutput: `${i}\n` })),
  };
  const jobMs = async (slots: number) => {
    const worker = await startWorkerProcess({
      ...env,
      WORKER_SLOTS: String(slots),
      SANDBOX_SLOT_OFFSET: "0",
    });
    try {
      const times: number[] = [];
      for (let i = 0; i <= repeats; i++) {
        const t0 = performance.now();
        const response = await fetch(`${apiUrl}/run?waitMs=120000`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(job),
        });
        const result = await response.json();
        if (result.verdict !== "accepted")
          throw new Error(`fan-out job: ${JSON.stringify(result).slice(0, 300)}`);
        if (i > 0) times.push(performance.now() - t0); // the first one warms the worker up
      }
      return median(times);
    } finally {
      await worker.kill("SIGTERM");
    }
  };
  const twoSlots = await jobMs(2);
  const oneSlot = await jobMs(1);

  const python = (await hostLanguages(config)).get("python");
  if (!python) throw new Error("python language missing");
  const spec = (slot: number, i: number) =>
    buildSandboxSpec({
      language: python,
      argv: [...python.run.slice(0, -1), "-c", program], // the job runs main.py: the same code
      workDir: null,
      stdin: Buffer.from(`${i}\n`),
      limits: resolveRunLimits({}, python, config.limits),
      slot,
      sandbox: config.sandbox,
    });
  const sandboxMs = async (slots: number[]) => {
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        slots.map(async (slot) => {
          while (next < tests) await runSandbox(spec(slot, next++));
        }),
      );
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  const [a, b] = options.referenceSlots;
  const sandboxTwo = await sandboxMs([a, b]);
  const sandboxOne = await sandboxMs([a]);
  return {
    tests,
    jobMs: { twoSlots: round(twoSlots), oneSlot: round(oneSlot) },
    ratioTwoToOne: Number((twoSlots / oneSlot).toFixed(2)),
    sandboxOnlyMs: { twoSlots: round(sandboxTwo), oneSlot: round(sandboxOne) },
    sandboxOnlyRatioTwoToOne: Number((sandboxTwo / sandboxOne).toFixed(2)),
  };
}

const round = (ms: number) => Math.round(ms);

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
