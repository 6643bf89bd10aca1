// Finds references to the program's source file in compiler and runtime output, so the page can
// link each one to its line in the editor and mark the line. Every toolchain we run names the file
// in one of three shapes:
//   main.c:3:5: error: …          gcc, clang, g++, go, rustc (" --> main.rs:3:5"), ghc, node, javac
//   main.pas(3,5) Error: …        fpc, C# (mcs/csc: "main.cs(3,5): error CS1002: …")
//   File "main.py", line 3        Python tracebacks and SyntaxErrors
// The file may carry a path (/box/main.c, ./main.go). Only the entry file is matched: a location in
// a system header is not a line of this editor.

export type Severity = "error" | "warning" | "info";

export interface SourceLocation {
  line: number;
  column: number | null;
  severity: Severity;
  message: string;
  /** Where the reference itself sits in the text (for linking). */
  start: number;
  end: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function severityOf(word: string | undefined, fallback: Severity): Severity {
  const lower = (word ?? "").toLowerCase();
  if (lower.includes("warn")) return "warning";
  if (lower === "note" || lower === "hint" || lower === "info") return "info";
  if (lower.includes("error") || lower === "fatal") return "error";
  return fallback;
}

export function findSourceLocations(text: string, sourceFile: string): SourceLocation[] {
  const file = `(?<![\\w./-])(?:[\\w./-]*/)?${escapeRegExp(sourceFile)}`;
  const severityWords = "(fatal error|error|warning|note|Error|Warning|Fatal|Note|Hint)";
  // A Python traceback names the failing line last and the exception after it.
  const lastLine = text.trimEnd().split("\n").at(-1)?.trim() ?? "";
  const shapes: {
    pattern: RegExp;
    read: (m: RegExpExecArray) => Omit<SourceLocation, "start" | "end">;
    /** The group holding the message, which the link leaves out. */
    messageGroup?: number;
  }[] = [
    {
      // file:line[:col][: severity][: message]
      pattern: new RegExp(
        `${file}:(\\d+)(?::(\\d+))?(?::\\s*${severityWords}(?:\\s+\\w+)?)?:?([^\\n]*)`,
        "g",
      ),
      read: (m) => ({
        line: Number(m[1]),
        column: m[2] ? Number(m[2]) : null,
        severity: severityOf(m[3], "error"),
        message: (m[4] ?? "").trim(),
      }),
      messageGroup: 4,
    },
    {
      // file(line,col)[:] severity[ code]: message
      pattern: new RegExp(`${file}\\((\\d+),(\\d+)\\):?\\s*${severityWords}?(?:\\s+\\w+)?:?([^\\n]*)`, "g"),
      read: (m) => ({
        line: Number(m[1]),
        column: Number(m[2]),
        severity: severityOf(m[3], "error"),
        message: (m[4] ?? "").trim(),
      }),
      messageGroup: 4,
    },
    {
      pattern: new RegExp(`File "${file}", line (\\d+)`, "g"),
      read: (m) => ({ line: Number(m[1]), column: null, severity: "error", message: lastLine }),
    },
  ];
  const found: SourceLocation[] = [];
  for (const { pattern, read, messageGroup } of shapes) {
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      const location = read(m);
      // The link covers the reference (file and position), not the message after it.
      const reference = m[0].length - (messageGroup ? (m[messageGroup]?.length ?? 0) : 0);
      const start = m.index;
      if (found.some((other) => start < other.end && other.start < start + reference)) continue;
      found.push({ ...location, start, end: start + Math.max(1, reference) });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
