// npm run compat [module ...]: CPython's own tests bare and in the sandbox, compared test by test;
// prints the table (module × bare / sandbox / reason) and exits 1 on a difference without a reason.
import fs from "node:fs";
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
import { REAL_PROGRAMS, runProgramBare, runProgramInSandbox } from "./real-programs.ts";

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
    const listed = (tests: string[]) =>
      tests.length > 3 ? `${tests.slice(0, 3).join(", ")} and ${tests.length - 3} more` : tests.join(", ");
    const reasons = [...byReason].map(([reason, tests]) => `${listed(tests)}: ${reason}`).join("; ");
    console.log(row([module, describeRun(bare), describeRun(sandbox), reasons || "none"]));
  }
  for (const program of process.argv.length > 2 ? [] : REAL_PROGRAMS) {
    if (!fs.existsSync(program.needs)) continue;
    const bare = runProgramBare(program);
    const sandbox = await runProgramInSandbox(program);
    const same = bare.ended === "exit 0" && sandbox.ended === "exit 0" && bare.stdout === sandbox.stdout;
    if (!same) unexplained++;
    console.log(row([program.name, bare.ended, sandbox.ended, same ? "none" : "OUTPUT DIFFERS"]));
  }
  if (unexplained > 0)
    console.error(`compat: ${unexplained} test(s) pass bare and not in the sandbox, without a reason`);
  return unexplained > 0 ? 1 : 0;
}

process.exitCode = await main();
