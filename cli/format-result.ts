import type { JobResult, JobView, Step, Verdict } from "../contract/job-result.ts";
import type { LanguageInfo } from "../contract/language-info.ts";

// What the CLI prints for people (`--json` prints the service's JSON instead): a line per step
// with its verdict, exit code or signal, CPU time, wall time and peak memory, and for a failing
// step what it printed and, for a wrong answer, where the output first differs.

/** Verdicts that mean the program did what was asked: the CLI exits 0 on these. */
export const PASSING: ReadonlySet<Verdict> = new Set(["ok", "accepted"]);

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatUsage(step: Step): string {
  const ending = step.signal ? step.signal : step.exitCode === null ? "" : `exit ${step.exitCode}`;
  const { cpuTimeMs, wallTimeMs, peakMemoryBytes } = step.usage;
  const ms = (value: number) => (value < 10 ? value.toFixed(1) : Math.round(value).toString());
  return [ending, `${ms(cpuTimeMs)} ms cpu`, `${ms(wallTimeMs)} ms wall`, formatBytes(peakMemoryBytes)]
    .filter(Boolean)
    .join("  ");
}

/**
 * A program's output made safe for the grader's terminal: control characters (ESC and the rest
 * of C0 and C1 but tab and newline) shown as `\x1b`, so output that is only reported, not passed
 * through, cannot move the cursor, retitle the window or write the clipboard (OSC 52).
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** At most `lines` lines of a program's output, indented, saying what was left out. */
export function excerpt(text: string, lines = 10): string {
  const all = printable(text).replace(/\n$/, "").split("\n");
  const shown = all.slice(0, lines).map((line) => `    ${line}`);
  if (all.length > lines) shown.push(`    … ${all.length - lines} more lines`);
  return shown.join("\n");
}

/** Where the output first differs from the expected one, line by line. */
function firstDifference(expected: string, actual: string): string {
  const want = expected.replace(/\r\n/g, "\n").split("\n");
  const got = actual.replace(/\r\n/g, "\n").split("\n");
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if ((want[i] ?? "").trimEnd() !== (got[i] ?? "").trimEnd()) {
      const shown = (line: string | undefined) => printable(JSON.stringify(line ?? "(end of output)"));
      return `line ${i + 1}: expected ${shown(want[i])}, got ${shown(got[i])}`;
    }
  }
  return "differs in whitespace only (see --compare)";
}

function stepLines(label: string, step: Step, expectedOutput?: string): string[] {
  const lines = [`${label.padEnd(10)} ${step.verdict.padEnd(14)} ${formatUsage(step)}`];
  if (step.error) lines.push(`    ${printable(step.error)}`);
  if (step.verdict === "wrong_answer" && expectedOutput !== undefined) {
    lines.push(`    ${firstDifference(expectedOutput, step.stdout)}`);
  }
  if (!PASSING.has(step.verdict)) {
    // Compilers write diagnostics to either stream; a failing run's own complaint is on stderr.
    const streams = label === "compile" ? [step.stdout, step.stderr] : [step.stderr];
    for (const text of streams) if (text.trim() !== "") lines.push(excerpt(text));
  }
  return lines;
}

/** A job run with tests: a summary line, then a line per step. */
export function formatTestedResult(
  result: JobResult,
  tests: { name: string; expectedOutput: string }[],
): string {
  const passed = result.runs.filter((run) => run.verdict === "accepted").length;
  const lines = [`${result.language}: ${result.verdict} (${passed}/${tests.length} tests passed)`];
  if (result.compile) lines.push(...stepLines("compile", result.compile));
  result.runs.forEach((run, i) => {
    lines.push(...stepLines(`test ${tests[i]?.name ?? i + 1}`, run, tests[i]?.expectedOutput));
  });
  return lines.join("\n");
}

/** A plain run's summary (its output goes to stdout and stderr as the program wrote it). */
export function formatPlainSummary(result: JobResult): string {
  const lines =
    result.compile && !PASSING.has(result.compile.verdict) ? stepLines("compile", result.compile) : [];
  const run = result.runs[0];
  if (run)
    lines.push(`${result.language}: ${run.verdict}  ${formatUsage(run)}${run.error ? `  ${run.error}` : ""}`);
  else lines.unshift(`${result.language}: ${result.verdict}`);
  return lines.join("\n");
}

export function formatJobView(view: JobView): string {
  const lines = [`job ${view.id}: ${view.status}${view.batchId ? ` (batch ${view.batchId})` : ""}`];
  if (view.error) lines.push(`    ${view.error.code}: ${view.error.message}`);
  if (view.result) {
    lines.push(`verdict: ${view.result.verdict} (${view.result.language})`);
    if (view.result.compile) lines.push(...stepLines("compile", view.result.compile));
    view.result.runs.forEach((run, i) => {
      lines.push(...stepLines(view.result && view.result.runs.length > 1 ? `test ${i + 1}` : "run", run));
    });
  }
  return lines.join("\n");
}

export function formatLanguages(languages: LanguageInfo[]): string {
  const width = Math.max(...languages.map((l) => l.id.length), 2);
  return languages
    .map(
      (l) =>
        `${l.id.padEnd(width)}  ${(l.compiled ? "compiled" : "").padEnd(8)}  ${l.name} — ${l.version ?? "version unknown"}`,
    )
    .join("\n");
}
