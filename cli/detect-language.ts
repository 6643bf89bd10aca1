import path from "node:path";
import type { LanguageInfo } from "../contract/language-info.ts";

// Which language a file is, when --lang is not given: the usual language of its extension, else
// the one language whose entry file has that extension. Several candidates and no usual choice
// (`.m`: Octave or Objective-C) is an error listing them, never a guess.

const usual: Record<string, string> = {
  ".py": "python",
  ".c": "c",
  ".cc": "cpp",
  ".cpp": "cpp",
  ".cxx": "cpp",
  ".js": "javascript",
  ".mjs": "javascript",
  ".ts": "typescript",
  ".sh": "bash",
  ".java": "java",
  ".go": "go",
  ".rs": "rust",
  ".rb": "ruby",
  ".pl": "perl",
  ".php": "php",
  ".lua": "lua",
  ".hs": "haskell",
  ".kt": "kotlin",
  ".cs": "csharp",
  ".pas": "pascal",
};

export function detectLanguage(file: string, languages: LanguageInfo[]): string {
  const extension = path.extname(file).toLowerCase();
  const offered = new Set(languages.map((language) => language.id));
  const preferred = usual[extension];
  if (preferred && offered.has(preferred)) return preferred;
  const candidates = languages.filter(
    (language) => path.extname(language.sourceFile).toLowerCase() === extension,
  );
  if (candidates.length === 1 && candidates[0]) return candidates[0].id;
  const hint =
    candidates.length > 1
      ? `one of ${candidates.map((c) => c.id).join(", ")}`
      : "see `cellblock languages` for what this service runs";
  throw new Error(
    `${file}: cannot tell the language from "${extension || "no extension"}"; pass --lang (${hint})`,
  );
}
