import { parseArgs } from "node:util";
import { FAULTS, type Fault, formatChaosRows, runChaos } from "./chaos/chaos-run.ts";

// `npm run chaos [-- --jobs 60 --seed 7 --fault worker-sigkill]`: one phase per fault (all by
// default) under a steady load of mixed jobs, then the table fault × accepted / completed / failed
// visibly / cancelled / lost / duplicated, and what was left on the host. Exits 1 when a job was
// lost or duplicated or anything was left. The bounded run in `npm test` is
// test/reliability/chaos.test.ts.

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "60" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    fault: { type: "string", multiple: true },
  },
});
const faults = (values.fault ?? [...FAULTS]) as Fault[];
for (const fault of faults) {
  if (!FAULTS.includes(fault)) throw new Error(`unknown fault ${fault}; one of ${FAULTS.join(", ")}`);
}
const seed = Number(values.seed);
console.log(`chaos: seed ${seed}, ${values.jobs} submissions per fault, faults ${faults.join(", ")}`);
const { rows, leftoversAfterShutdown } = await runChaos({
  faults,
  jobsPerFault: Number(values.jobs),
  seed,
  endDeadlineMs: 120_000,
  log: (line) => console.log(line),
});
console.log(`\n${formatChaosRows(rows)}`);
console.log(`left on the host after all workers shut down: ${leftoversAfterShutdown.length}`);
for (const row of rows) {
  for (const leftover of row.leftovers) console.log(`LEFTOVER after ${row.fault}: ${leftover}`);
}
for (const leftover of leftoversAfterShutdown) console.log(`LEFTOVER after shutdown: ${leftover}`);
const bad =
  rows.some((r) => r.lost > 0 || r.duplicated > 0 || r.webhooksMissing > 0 || r.leftovers.length > 0) ||
  leftoversAfterShutdown.length > 0;
process.exitCode = bad ? 1 : 0;
