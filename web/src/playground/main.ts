import "../shared/base.css";
import "./playground.css";
import type { JobRequestInput } from "../../../contract/job-request.ts";
import type { LanguageInfo } from "../../../contract/language-info.ts";
import { ApiClient, ApiError } from "../shared/api-client.ts";
import { byId, h, replaceChildren } from "../shared/dom.ts";
import { askForKey, wireKeyButton } from "../shared/key-dialog.ts";
import { createEditor } from "./editor.ts";
import { createInteractiveConsole } from "./interactive-console.ts";
import { loadLanguageSupport } from "./language-modes.ts";
import { readLimits, showLanguageLimits } from "./limits-form.ts";
import { createLiveOutput } from "./live-output.ts";
import { renderResult, resultSummary } from "./result-view.ts";
import {
  type RunHandle,
  type RunListener,
  type RunOutcome,
  type RunStatus,
  startInteractiveRun,
  startRun,
} from "./run-transport.ts";
import { sampleProgram } from "./samples.ts";
import { programFrom, programFromHash, type SharedProgram, shareUrl } from "./share-link.ts";
import { findSourceLocations } from "./source-locations.ts";
import { wireTabs } from "./tabs.ts";
import { createTestsPanel } from "./tests-panel.ts";

// The playground (/): wires the editor, the language picker, the input and tests panels, Run and
// Stop, live output and the interactive console, the result view and share links. The workspace
// (language, program, stdin, args, tests) and a draft of the source per language are kept in
// localStorage, so a reload loses nothing; a share link in the address wins over them.

const DRAFT_PREFIX = "cellblock.draft.";
const WORKSPACE_KEY = "cellblock.workspace";
const INTERACTIVE_KEY = "cellblock.interactive";

const api = new ApiClient(askForKey);
const languageSelect = byId<HTMLSelectElement>("language");
const runButton = byId<HTMLButtonElement>("run");
const stopButton = byId<HTMLButtonElement>("stop");
const shareButton = byId<HTMLButtonElement>("share");
const stdinInput = byId<HTMLTextAreaElement>("stdin");
const argsInput = byId<HTMLTextAreaElement>("args");
const statusLine = byId("run-status");
const resultPane = byId("result");
const testsCount = byId("tests-count");
const interactiveToggle = byId<HTMLInputElement>("interactive");
const interactiveConsole = createInteractiveConsole(runButton);

const editor = createEditor(byId("editor"), { onRun: () => run() });
const tests = createTestsPanel(
  byId("tests"),
  byId<HTMLButtonElement>("add-test"),
  byId<HTMLSelectElement>("compare"),
);
wireTabs(byId("input-tabs"));

let languages: LanguageInfo[] = [];
let current: LanguageInfo | null = null;
let running: RunHandle | null = null;

const storage = {
  get: (key: string) => {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set: (key: string, value: string) => {
    try {
      localStorage.setItem(key, value);
    } catch {
      // storage disabled: drafts last as long as the page
    }
  },
};

function showError(message: string, retry?: () => void): void {
  replaceChildren(
    resultPane,
    h(
      "div",
      { class: "error-banner", role: "alert" },
      message,
      retry ? h("button", { type: "button", class: "retry", onclick: retry }, "Try again") : null,
    ),
  );
}

async function loadLanguages(): Promise<void> {
  try {
    languages = (await api.request<LanguageInfo[]>("GET", "/languages")).body;
  } catch (error) {
    showError(`Could not load the languages: ${(error as Error).message}`, () => void start());
    return;
  }
  replaceChildren(
    languageSelect,
    ...languages.map((language) =>
      h(
        "option",
        { value: language.id },
        language.version ? `${language.name} — ${language.version}` : language.name,
      ),
    ),
  );
  languageSelect.disabled = false;
  runButton.disabled = false;
}

async function selectLanguage(id: string, source?: string): Promise<void> {
  if (current) storage.set(DRAFT_PREFIX + current.id, editor.getSource());
  current = languages.find((language) => language.id === id) ?? languages[0] ?? null;
  if (!current) return;
  languageSelect.value = current.id;
  editor.setSource(source ?? storage.get(DRAFT_PREFIX + current.id) ?? sampleProgram(current.id));
  editor.showDiagnostics([]);
  showLanguageLimits(current);
  await editor.setLanguage(current.id);
}

function applyShared(program: SharedProgram): Promise<void> {
  stdinInput.value = program.stdin;
  argsInput.value = program.args.join("\n");
  tests.set(program.tests);
  tests.setCompare(program.compare);
  updateTestsCount();
  if (program.tests.length > 0) byId<HTMLButtonElement>("tab-tests").click();
  return selectLanguage(program.language, program.source);
}

function currentProgram(): SharedProgram {
  const args = argsInput.value.split("\n").filter((line) => line !== "");
  return {
    language: current?.id ?? "",
    source: editor.getSource(),
    stdin: stdinInput.value,
    args,
    tests: tests.get(),
    compare: tests.compare(),
  };
}

function buildRequest(program: SharedProgram, interactive: boolean): JobRequestInput {
  const limits = readLimits();
  const request: JobRequestInput = { language: program.language, source: program.source, limits };
  // Interactive: one run whose stdin is what the person types (a live run takes no tests).
  if (interactive) return { ...request, args: program.args };
  if (program.tests.length > 0) return { ...request, tests: program.tests, compare: program.compare };
  return { ...request, stdin: program.stdin, args: program.args };
}

const statusText: Record<RunStatus, string> = {
  submitting: "Running…",
  queued: "Waiting for a free sandbox…",
  running: "Running…",
  reconnecting: "Connection lost; reconnecting…",
  stopping: "Stopping…",
};

function setRunning(handle: RunHandle | null): void {
  running = handle;
  runButton.disabled = handle !== null || current === null;
  stopButton.disabled = handle === null;
  interactiveToggle.disabled = handle !== null;
  if (!handle) interactiveConsole.detach();
  document.body.classList.toggle("is-running", handle !== null);
}

/** The finished run's view; an interactive run keeps its transcript (output with what was typed). */
function showOutcome(outcome: RunOutcome, program: SharedProgram, transcript: HTMLElement | null): void {
  const sourceFile = current?.sourceFile ?? "";
  switch (outcome.kind) {
    case "completed": {
      const runTests = program.tests.length > 0 ? program.tests : null;
      statusLine.textContent = "";
      const context = {
        sourceFile,
        tests: runTests,
        onLocation: (location: { line: number; column: number | null }) =>
          editor.goTo(location.line, location.column),
      };
      replaceChildren(
        resultPane,
        resultSummary(outcome.result, runTests),
        transcript
          ? h("details", { class: "session", open: true }, h("summary", {}, "Session"), transcript)
          : null,
        ...renderResult(outcome.result, context),
      );
      const compileText = outcome.result.compile ? outcome.result.compile.stderr : "";
      const runText = outcome.result.runs.map((step) => step.stderr).join("\n");
      editor.showDiagnostics(findSourceLocations(`${compileText}\n${runText}`, sourceFile));
      return;
    }
    case "cancelled":
      statusLine.textContent = "";
      replaceChildren(
        resultPane,
        h(
          "div",
          { class: "summary" },
          h("span", { class: "badge tone-neutral", "data-verdict": "cancelled" }, "Stopped"),
          h("span", { class: "muted" }, "The run was cancelled."),
        ),
      );
      return;
    case "failed":
      statusLine.textContent = "";
      showError(`The job failed: ${outcome.message}`);
      return;
    case "rejected": {
      statusLine.textContent = "";
      const details = outcome.error.details;
      const field = Array.isArray(details) ? "" : (details as { field?: string } | undefined)?.field;
      showError(`${outcome.error.message}${field ? ` (${field})` : ""} [${outcome.error.code}]`);
      return;
    }
    default: {
      // Exhaustive: a new kind of outcome fails the type check here.
      const unhandled: never = outcome;
      throw new Error(`unhandled run outcome ${JSON.stringify(unhandled)}`);
    }
  }
}

async function run(): Promise<void> {
  if (running || !current) return;
  const program = currentProgram();
  const interactive = interactiveToggle.checked;
  editor.showDiagnostics([]);
  const view = createLiveOutput();
  replaceChildren(resultPane, view.element);
  const listener: RunListener = {
    status: (status) => {
      statusLine.textContent =
        interactive && status === "running" ? "Running — type into the program below" : statusText[status];
    },
    step: (stage, test) => view.step(stage, test),
    output: (piece) => view.output(piece),
  };
  const request = buildRequest(program, interactive);
  let handle: RunHandle;
  if (interactive) {
    const interactiveHandle = startInteractiveRun(api, request, listener);
    handle = interactiveHandle;
    setRunning(handle);
    interactiveConsole.attach(interactiveHandle, view);
  } else {
    handle = startRun(api, request, listener);
    setRunning(handle);
  }
  try {
    showOutcome(await handle.outcome, program, interactive ? view.element : null);
  } catch (error) {
    statusLine.textContent = "";
    showError(
      error instanceof ApiError
        ? `${error.message} [${error.code}]`
        : `The run was interrupted: ${(error as Error).message}`,
    );
  } finally {
    setRunning(null);
  }
}

async function share(): Promise<void> {
  const dialog = byId<HTMLDialogElement>("share-dialog");
  const input = byId<HTMLInputElement>("share-url");
  const url = await shareUrl(currentProgram());
  input.value = url;
  history.replaceState(null, "", url);
  byId("share-copied").textContent = "";
  dialog.showModal();
  input.select();
}

function updateTestsCount(): void {
  const count = tests.get().length;
  testsCount.textContent = count > 0 ? String(count) : "";
  runButton.title =
    count > 0 ? `Run ${count} test${count === 1 ? "" : "s"} (Ctrl+Enter)` : "Run (Ctrl+Enter)";
}

function savedWorkspace(): SharedProgram | null {
  try {
    return programFrom(JSON.parse(storage.get(WORKSPACE_KEY) ?? "null"));
  } catch {
    return null;
  }
}

async function start(): Promise<void> {
  const saved = savedWorkspace();
  // Fetch the likely language's grammar while /languages is on its way, not after it.
  void loadLanguageSupport(saved?.language ?? "python");
  await loadLanguages();
  if (languages.length === 0) return;
  const shared = await programFromHash();
  const program = shared ?? saved;
  if (program) await applyShared(program);
  else await selectLanguage("python");
  document.body.dataset.ready = "true";
}

runButton.addEventListener("click", () => void run());
const showInteractive = () => {
  byId("interactive-note").hidden = !interactiveToggle.checked;
};
interactiveToggle.checked = storage.get(INTERACTIVE_KEY) === "true";
showInteractive();
interactiveToggle.addEventListener("change", () => {
  storage.set(INTERACTIVE_KEY, String(interactiveToggle.checked));
  showInteractive();
});
stopButton.addEventListener("click", () => running?.stop());
shareButton.addEventListener("click", () => void share());
languageSelect.addEventListener("change", async () => {
  await selectLanguage(languageSelect.value);
  onEdit();
});
/**
 * On every edit: keep the workspace for the next visit, and drop a share link's fragment — the
 * address no longer describes the page, and a reload must show the edit, not the link's program.
 */
function onEdit(): void {
  if (document.body.dataset.ready !== "true") return;
  storage.set(WORKSPACE_KEY, JSON.stringify(currentProgram()));
  if (location.hash.startsWith("#p=")) history.replaceState(null, "", location.pathname + location.search);
}

tests.onChange(() => {
  updateTestsCount();
  onEdit();
});
editor.onChange(() => {
  if (current) storage.set(DRAFT_PREFIX + current.id, editor.getSource());
  onEdit();
});
stdinInput.addEventListener("input", onEdit);
argsInput.addEventListener("input", onEdit);
byId("share-copy").addEventListener("click", async () => {
  const input = byId<HTMLInputElement>("share-url");
  input.select();
  const copied = await navigator.clipboard?.writeText(input.value).then(
    () => true,
    () => false,
  );
  byId("share-copied").textContent = copied ? "Copied." : "Press Ctrl+C to copy.";
});
// Ctrl/Cmd+Enter runs from anywhere on the page, not only from the editor.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
    event.preventDefault();
    void run();
  }
});
wireKeyButton(byId<HTMLButtonElement>("key-button"), api, () => void start());

void start();
