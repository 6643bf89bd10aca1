// Prints every failed test in vitest JSON reports (--reporter=json), one "FAILED <file> > <test>"
// line and its first message line each, plus a file that failed with no failed test (a hook or an
// import). CI logs are read from their tail: .ci/run and scripts/v2-vm-suite.sh end with this.
//   node scripts/failed-tests.mjs [--prefix TEXT] REPORT...   (a missing or unreadable report is skipped)
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  options: { prefix: { type: "string", default: "" } },
  allowPositionals: true,
});
const firstLine = (text) => (text ?? "").split("\n")[0].slice(0, 300);
for (const reportPath of positionals) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportPath, "utf8"));
  } catch {
    continue;
  }
  for (const file of report.testResults) {
    const name = file.name.replace(`${process.cwd()}/`, "");
    const failed = file.assertionResults.filter((t) => t.status === "failed");
    if (file.status === "failed" && failed.length === 0)
      console.log(`${values.prefix}FAILED ${name}: ${firstLine(file.message)}`);
    for (const t of failed)
      console.log(`${values.prefix}FAILED ${name} > ${t.fullName}\n  ${firstLine(t.failureMessages[0])}`);
  }
}
