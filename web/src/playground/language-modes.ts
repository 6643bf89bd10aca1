import { type LanguageSupport, StreamLanguage, type StreamParser } from "@codemirror/language";
import type { Extension } from "@codemirror/state";

// Syntax support per language id of GET /languages, each loaded on demand (its own chunk), so the
// first load carries only the editor and the default language. Lezer grammars where CodeMirror
// has an official package (better highlighting and indentation); the legacy stream modes for the
// rest. An id without a mode edits as plain text — a new language on the server never breaks the
// page.

const legacy = (parser: StreamParser<unknown>): Extension => StreamLanguage.define(parser);

const loaders: Record<string, () => Promise<LanguageSupport | Extension>> = {
  python: async () => (await import("@codemirror/lang-python")).python(),
  pypy: async () => (await import("@codemirror/lang-python")).python(),
  c: async () => (await import("@codemirror/lang-cpp")).cpp(),
  cpp: async () => (await import("@codemirror/lang-cpp")).cpp(),
  javascript: async () => (await import("@codemirror/lang-javascript")).javascript(),
  typescript: async () => (await import("@codemirror/lang-javascript")).javascript({ typescript: true }),
  java: async () => (await import("@codemirror/lang-java")).java(),
  rust: async () => (await import("@codemirror/lang-rust")).rust(),
  go: async () => (await import("@codemirror/lang-go")).go(),
  bash: async () => legacy((await import("@codemirror/legacy-modes/mode/shell")).shell),
  csharp: async () => legacy((await import("@codemirror/legacy-modes/mode/clike")).csharp),
  kotlin: async () => legacy((await import("@codemirror/legacy-modes/mode/clike")).kotlin),
  // PHP's official package pulls in the HTML, CSS and JS grammars; C's strings, comments and numbers do.
  php: async () => legacy((await import("@codemirror/legacy-modes/mode/clike")).c),
  haskell: async () => legacy((await import("@codemirror/legacy-modes/mode/haskell")).haskell),
  lua: async () => legacy((await import("@codemirror/legacy-modes/mode/lua")).lua),
  pascal: async () => legacy((await import("@codemirror/legacy-modes/mode/pascal")).pascal),
  perl: async () => legacy((await import("@codemirror/legacy-modes/mode/perl")).perl),
  r: async () => legacy((await import("@codemirror/legacy-modes/mode/r")).r),
  ruby: async () => legacy((await import("@codemirror/legacy-modes/mode/ruby")).ruby),
  sqlite: async () => legacy((await import("@codemirror/legacy-modes/mode/sql")).sqlite),
};

export async function loadLanguageSupport(languageId: string): Promise<Extension> {
  const load = loaders[languageId];
  return load ? await load() : [];
}
