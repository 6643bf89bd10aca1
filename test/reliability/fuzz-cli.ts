import { parseArgs } from "node:util";
import { fuzzedApis } from "./fuzz/apis.ts";
import { formatTallies, fuzzRoutes } from "./fuzz/fuzz-requests.ts";
import { startFuzzTarget } from "./fuzz/fuzz-service.ts";

// `npm run fuzz [-- --cases N --seed S --route "POST /run"]`: the long request fuzz. Prints the
// table of cases per route and the 5xx count, then every problem with its seed and index; exits 1
// when there was any problem. The bounded run in `npm test` is test/reliability/fuzz.test.ts.

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "2000" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
    route: { type: "string" },
    "timeout-ms": { type: "string", default: "10000" },
  },
});
const seed = Number(values.seed);
const target = await startFuzzTarget();
try {
  console.log(`fuzz: seed ${seed}, ${values.cases} cases per route`);
  const tallies = await fuzzRoutes(fuzzedApis, {
    port: target.service.api.port,
    context: target.context,
    seed,
    casesPerRoute: Number(values.cases),
    answerTimeoutMs: Number(values["timeout-ms"]),
    ...(values.route ? { only: values.route } : {}),
    onTally: (t) =>
      console.log(`  ${t.route}: ${t.cases} cases, ${t.serverErrors} 5xx, ${t.problems.length} problems`),
  });
  const alive = await target.service.get("/healthz");
  console.log(`\n${formatTallies(tallies)}\n\nserver alive afterwards: ${alive.status === 200}`);
  const problems = tallies.flatMap((t) => t.problems);
  for (const p of problems)
    console.log(`PROBLEM ${p.route} [seed ${seed} #${p.index}] ${p.kind}: ${p.note}\n  → ${p.problem}`);
  process.exitCode = problems.length > 0 || alive.status !== 200 ? 1 : 0;
} finally {
  await target.close();
}
