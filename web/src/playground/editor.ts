import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { type Diagnostic, lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorSelection, EditorState, Prec } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { cspNonce } from "../shared/csp-nonce.ts";
import { loadLanguageSupport } from "./language-modes.ts";

// The code editor: CodeMirror 6 with the usual editing keys (history, search, bracket closing,
// Tab indents — Escape then Tab leaves the editor, CodeMirror's accessible way out), Ctrl/Cmd+Enter
// to run, a lint gutter for compiler messages, and one theme drawn from the page's CSS variables,
// so it follows the system's light or dark mode with the rest of the page.

export interface SourceDiagnostic {
  line: number;
  column: number | null;
  severity: "error" | "warning" | "info";
  message: string;
}

export interface CodeEditor {
  readonly view: EditorView;
  getSource(): string;
  setSource(source: string): void;
  setLanguage(languageId: string): Promise<void>;
  showDiagnostics(diagnostics: SourceDiagnostic[]): void;
  goTo(line: number, column: number | null): void;
  onChange(listener: () => void): void;
}

const theme = EditorView.theme({
  "&": { color: "var(--fg)", backgroundColor: "var(--editor-bg)", height: "100%" },
  ".cm-scroller": { fontFamily: "var(--mono)", fontSize: "13.5px", lineHeight: "1.55" },
  ".cm-content": { caretColor: "var(--accent)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--accent)", borderLeftWidth: "2px" },
  ".cm-gutters": { backgroundColor: "var(--editor-gutter)", color: "var(--muted)", border: "none" },
  ".cm-activeLine": { backgroundColor: "var(--editor-active)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--editor-active)", color: "var(--fg)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
    { backgroundColor: "var(--editor-selection)" },
  ".cm-matchingBracket": { outline: "1px solid var(--muted)", backgroundColor: "transparent" },
  ".cm-panels": { backgroundColor: "var(--surface-2)", color: "var(--fg)" },
  ".cm-tooltip": { backgroundColor: "var(--surface)", border: "1px solid var(--border)" },
  ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--bad)" },
  ".cm-lintRange-warning": { backgroundImage: "none", textDecoration: "underline wavy var(--warn)" },
});

const highlight = HighlightStyle.define([
  {
    tag: [tags.keyword, tags.controlKeyword, tags.moduleKeyword, tags.operatorKeyword],
    color: "var(--syntax-keyword)",
  },
  {
    tag: [tags.string, tags.special(tags.string), tags.character, tags.regexp],
    color: "var(--syntax-string)",
  },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: "var(--syntax-number)" },
  {
    tag: [tags.comment, tags.lineComment, tags.blockComment],
    color: "var(--syntax-comment)",
    fontStyle: "italic",
  },
  {
    tag: [tags.function(tags.variableName), tags.function(tags.propertyName)],
    color: "var(--syntax-function)",
  },
  {
    tag: [tags.definition(tags.function(tags.variableName))],
    color: "var(--syntax-function)",
    fontWeight: "600",
  },
  { tag: [tags.typeName, tags.className, tags.namespace], color: "var(--syntax-type)" },
  { tag: [tags.meta, tags.processingInstruction, tags.annotation], color: "var(--syntax-meta)" },
  { tag: tags.invalid, color: "var(--bad)" },
]);

export function createEditor(parent: HTMLElement, options: { onRun: () => void }): CodeEditor {
  const language = new Compartment();
  const listeners: (() => void)[] = [];
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        EditorState.allowMultipleSelections.of(true),
        indentOnInput(),
        indentUnit.of("    "),
        syntaxHighlighting(highlight),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        lintGutter(),
        Prec.highest(
          keymap.of([
            {
              key: "Mod-Enter",
              run: () => {
                options.onRun();
                return true;
              },
            },
          ]),
        ),
        keymap.of([
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...lintKeymap,
          indentWithTab,
        ]),
        language.of([]),
        theme,
        EditorView.contentAttributes.of({ "aria-label": "Program source" }),
        EditorView.cspNonce.of(cspNonce),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) for (const listener of listeners) listener();
        }),
      ],
    }),
  });

  let languageRequest = 0;
  return {
    view,
    getSource: () => view.state.doc.toString(),
    setSource(source) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
    },
    async setLanguage(languageId) {
      const request = ++languageRequest;
      const support = await loadLanguageSupport(languageId);
      // A quicker later choice wins over a slower earlier one.
      if (request === languageRequest) view.dispatch({ effects: language.reconfigure(support) });
    },
    showDiagnostics(diagnostics) {
      const doc = view.state.doc;
      const converted: Diagnostic[] = diagnostics
        .filter((d) => d.line >= 1 && d.line <= doc.lines)
        .map((d) => {
          const line = doc.line(d.line);
          const from = Math.min(line.to, line.from + Math.max(0, (d.column ?? 1) - 1));
          const to = d.column === null || from === line.to ? line.to : from + 1;
          return { from: d.column === null ? line.from : from, to, severity: d.severity, message: d.message };
        });
      view.dispatch(setDiagnostics(view.state, converted));
    },
    goTo(lineNumber, column) {
      const doc = view.state.doc;
      const line = doc.line(Math.min(Math.max(1, lineNumber), doc.lines));
      const pos = Math.min(line.to, line.from + Math.max(0, (column ?? 1) - 1));
      view.dispatch({
        selection: EditorSelection.cursor(pos),
        effects: EditorView.scrollIntoView(pos, { y: "center" }),
      });
      view.focus();
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
