import type { JobTest } from "../../../contract/job-request.ts";
import type { JobResult, Step } from "../../../contract/job-result.ts";
import { h } from "../shared/dom.ts";
import { formatBytes, formatMs } from "../shared/format.ts";
import { verdictLook } from "../shared/verdicts.ts";
import { findSourceLocations, type SourceLocation } from "./source-locations.ts";

// Renders a job's result: the verdict, then each step (compile, then the run or every test) with
// its exit code or signal, CPU time, wall time and peak memory, its output, and — for a test that
// failed — its input and expected output beside what the program printed. References to the
// source file in compiler and runtime output become links to the line in the editor.

export interface ResultContext {
  sourceFile: string;
  tests: JobTest[] | null;
  onLocation: (location: SourceLocation) => void;
}

const stopReasons: Record<string, string> = {
  cpu_time: "stopped at the CPU time limit",
  wall_time: "stopped at the wall time limit",
  memory: "stopped at the memory limit",
  output: "stopped at the output limit",
  file_size: "stopped at the file size limit",
  cancelled: "cancelled",
};

function verdictBadge(verdict: Step["verdict"]): HTMLElement {
  const look = verdictLook(verdict);
  return h("span", { class: `badge tone-${look.tone}`, "data-verdict": verdict }, look.label);
}

function metric(label: string, value: string, tone?: string): HTMLElement {
  return h(
    "span",
    { class: `metric${tone ? ` metric-${tone}` : ""}` },
    h("span", { class: "muted" }, label),
    value,
  );
}

function stepMetrics(step: Step): HTMLElement {
  const ending =
    step.signal !== null
      ? metric("signal", step.signal, "bad")
      : step.exitCode !== null
        ? metric("exit", String(step.exitCode), step.exitCode === 0 ? "good" : "bad")
        : null;
  return h(
    "div",
    { class: "metrics" },
    ending,
    metric("CPU", formatMs(step.usage.cpuTimeMs)),
    metric("wall", formatMs(step.usage.wallTimeMs)),
    metric("memory", formatBytes(step.usage.peakMemoryBytes)),
    step.stopReason
      ? h("span", { class: "stop-reason" }, stopReasons[step.stopReason] ?? step.stopReason)
      : null,
  );
}

/** Output text with every reference to the source file turned into a link to its line. */
export function linkedOutput(text: string, context: ResultContext): HTMLElement {
  const pre = h("pre", { class: "output" });
  let at = 0;
  for (const location of findSourceLocations(text, context.sourceFile)) {
    pre.append(text.slice(at, location.start));
    const label = text.slice(location.start, location.end);
    const where = `line ${location.line}${location.column ? `, column ${location.column}` : ""}`;
    pre.append(
      h(
        "button",
        {
          class: "source-link",
          type: "button",
          title: `Go to ${where}`,
          onclick: () => context.onLocation(location),
        },
        label,
      ),
    );
    at = location.end;
  }
  pre.append(text.slice(at));
  return pre;
}

function stream(
  title: string,
  text: string,
  truncated: boolean,
  context: ResultContext | null,
): HTMLElement | null {
  if (text === "" && !truncated) return null;
  return h(
    "section",
    { class: "stream" },
    h(
      "h4",
      {},
      title,
      truncated ? h("span", { class: "truncated" }, " — truncated at the output limit") : null,
    ),
    context ? linkedOutput(text, context) : h("pre", { class: "output" }, text),
  );
}

function stepCard(title: string, step: Step, context: ResultContext, test: JobTest | null): HTMLElement {
  const failed = !["ok", "accepted"].includes(step.verdict);
  const body = h(
    "div",
    { class: "step-body" },
    test && step.verdict === "wrong_answer"
      ? h(
          "div",
          { class: "compare" },
          stream("Input", test.stdin, false, null) ?? h("p", { class: "muted" }, "(no input)"),
          stream("Expected output", test.expectedOutput, false, null) ??
            h("p", { class: "muted" }, "(empty)"),
        )
      : null,
    stream(test ? "Output" : "stdout", step.stdout, step.stdoutTruncated, null),
    stream("stderr", step.stderr, step.stderrTruncated, context),
    step.error ? h("p", { class: "error-banner" }, `Sandbox: ${step.error}`) : null,
    step.stdout === "" && step.stderr === "" && !step.error
      ? h("p", { class: "muted" }, "(no output)")
      : null,
  );
  const details = h(
    "details",
    { class: `step step-${verdictLook(step.verdict).tone}`, open: failed || !test },
    h(
      "summary",
      {},
      h("span", { class: "step-title" }, title),
      verdictBadge(step.verdict),
      stepMetrics(step),
    ),
    body,
  );
  return details;
}

export function renderResult(result: JobResult, context: ResultContext): HTMLElement[] {
  const cards: HTMLElement[] = [];
  if (result.compile && (result.compile.verdict !== "ok" || result.compile.stderr !== "")) {
    cards.push(stepCard("Compile", result.compile, context, null));
  }
  result.runs.forEach((step, index) => {
    const test = context.tests?.[index] ?? null;
    cards.push(stepCard(test ? `Test ${index + 1}` : "Run", step, context, test));
  });
  return cards;
}

export function resultSummary(result: JobResult, tests: JobTest[] | null): HTMLElement {
  const passed = result.runs.filter((step) => step.verdict === "accepted").length;
  const wall = [result.compile, ...result.runs].reduce((sum, step) => sum + (step?.usage.wallTimeMs ?? 0), 0);
  return h(
    "div",
    { class: "summary", "data-verdict": result.verdict },
    verdictBadge(result.verdict),
    tests && result.verdict !== "compile_error"
      ? h("span", {}, `${passed} of ${tests.length} tests passed`)
      : null,
    h("span", { class: "muted" }, `${formatMs(wall)} in the sandbox`),
  );
}
