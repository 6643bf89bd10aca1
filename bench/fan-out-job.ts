import pino from "pino";
import { startApi } from "../api/start-api.ts";
import { type Config, loadConfig } from "../config/load-config.ts";
import { resolveRunLimits } from "../contract/resolve-limits.ts";
import { runSandbox } from "../native/index.ts";
import { startWorkerProcess } from "../test/helpers/worker-process.ts";
import { buildSandboxSpec } from "../worker/build-sandbox-spec.ts";
import { hostLanguages } from "./host-languages.ts";

// Part of `npm run bench:batch`: one job of N python tests (default 50) on an idle worker with 2
// slots and on one with 1 slot (worker/fan-out-tests.ts spreads a job's tests over free slots),
// alternating, each the median of a few runs, wall time from POST /run to its answer. The
// reference in the same run: the same N sandbox runs of the same program, two at a time on two
// slots and one after another on one slot, alternating — what the sandbox alone gains from a
// second slot on this machine now (on a shared, loaded machine it can be nothing).

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
  // Both workers run at once, each on its own queue (its own API), idle but for the one job sent
  // to it; the runs alternate, so the load of a shared machine drifts into both figures alike.
  const oneSlotApi = await startApi(
    loadConfig({ ...env, QUEUE_PREFIX: `${env.QUEUE_PREFIX ?? "bench"}-one-slot` }),
    pino({ level: "warn" }),
  );
  const workers = [
    await startWorkerProcess({ ...env, WORKER_SLOTS: "2", SANDBOX_SLOT_OFFSET: "0" }),
    await startWorkerProcess({
      ...env,
      QUEUE_PREFIX: `${env.QUEUE_PREFIX ?? "bench"}-one-slot`,
      WORKER_SLOTS: "1",
      SANDBOX_SLOT_OFFSET: "2",
    }),
  ];
  const times = { two: [] as number[], one: [] as number[] };
  try {
    const runOn = async (url: string) => {
      const t0 = performance.now();
      const response = await fetch(`${url}/run?waitMs=120000`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(job),
      });
      const result = await response.json();
      if (result.verdict !== "accepted")
        throw new Error(`fan-out job: ${JSON.stringify(result).slice(0, 300)}`);
      return performance.now() - t0;
    };
    for (let i = 0; i <= repeats; i++) {
      const two = await runOn(apiUrl);
      const one = await runOn(oneSlotApi.url);
      if (i === 0) continue; // the first ones warm the workers up
      times.two.push(two);
      times.one.push(one);
    }
  } finally {
    for (const worker of workers) await worker.kill("SIGTERM");
    await oneSlotApi.close();
  }
  const twoSlots = median(times.two);
  const oneSlot = median(times.one);

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
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      slots.map(async (slot) => {
        while (next < tests) await runSandbox(spec(slot, next++));
      }),
    );
    return performance.now() - t0;
  };
  const [a, b] = options.referenceSlots;
  const sandbox = { two: [] as number[], one: [] as number[] };
  for (let r = 0; r < repeats; r++) {
    sandbox.two.push(await sandboxMs([a, b]));
    sandbox.one.push(await sandboxMs([a]));
  }
  const sandboxTwo = median(sandbox.two);
  const sandboxOne = median(sandbox.one);
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
