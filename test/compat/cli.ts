// npm run compat [module ...]: CPython's own tests bare and in the sandbox, compared test by test;
// prints the table (module × bare / sandbox / reason) and exits 1 on a difference without a reason.
import {
  countOk,
  differences,
  type ModuleRun,
  runBare,
  runInSandbox,
  testsuiteInstalled,
} from "./cpython-tests.ts";
import { knownReason } from "./known-differences.ts";
import { ALL } from "./modules.ts";

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function describeRun(run: ModuleRun): string {
  return `${countOk(run)}${run.ended === "exit 0" || run.ended === "exit 2" ? "" : `, ended ${run.ended}`}`;
}

async function main(): Promise<number> {
  if (!testsuiteInstalled()) {
    console.error("compat: CPython's test suite is missing (apt-get install libpython3.11-testsuite)");
    return 2;
  }
  const modules = process.argv.length > 2 ? process.argv.slice(2) : ALL;
  console.log(row(["module", "bare", "sandbox", "differences (test: reason)"]));
  console.log(row(["---", "---", "---", "---"]));
  let unexplained = 0;
  for (const module of modules) {
    const bare = await runBare(module);
    const sandbox = await runInSandbox(module);
    const diffs = differences(bare, sandbox);
    const byReason = new Map<string, string[]>();
    for (const d of diffs) {
      const reason = knownReason(d.test) ?? "UNEXPLAINED";
      if (reason === "UNEXPLAINED") unexplained++;
      const short = `${d.test.split(".").slice(-2).join(".")} (${d.sandbox})`;
      byReason.set(reason, [...(byReason.get(reason) ?? []), short]);
    }
    const reasons = [...byReason].map(([reason, tests]) => `${tests.join(", ")}: ${reason}`).join("; ");
    console.log(row([module, describeRun(bare), describeRun(sandbox), reasons || "none"]));
  }
  if (unexplained > 0)
    console.error(`compat: ${unexplained} test(s) pass bare and not in the sandbox, without a reason`);
  return unexplained > 0 ? 1 : 0;
}

process.exitCode = await main();
