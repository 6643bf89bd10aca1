import { describe, expect, it } from "vitest";
import { findSourceLocations } from "../../../web/src/playground/source-locations.ts";

// Output of the toolchains cellblock runs, as they print it: each reference to the entry file
// must become a line (and column) to link, and nothing else must.

const located = (text: string, file: string) =>
  findSourceLocations(text, file).map(({ line, column, severity, message, start, end }) => ({
    line,
    column,
    severity,
    message,
    link: text.slice(start, end),
  }));

describe("source locations in compiler and runtime output", () => {
  it("reads gcc's file:line:col with its severity, and skips lines without a position", () => {
    const gcc = [
      "main.c: In function 'main':",
      "main.c:4:20: error: 'missing' undeclared (first use in this function)",
      '    4 |     printf("%d\\n", missing);',
      "main.c:4:20: note: each undeclared identifier is reported only once",
      "main.c:9:1: warning: control reaches end of non-void function [-Wreturn-type]",
    ].join("\n");
    expect(located(gcc, "main.c")).toEqual([
      {
        line: 4,
        column: 20,
        severity: "error",
        message: "'missing' undeclared (first use in this function)",
        link: "main.c:4:20: error:",
      },
      {
        line: 4,
        column: 20,
        severity: "info",
        message: "each undeclared identifier is reported only once",
        link: "main.c:4:20: note:",
      },
      {
        line: 9,
        column: 1,
        severity: "warning",
        message: "control reaches end of non-void function [-Wreturn-type]",
        link: "main.c:9:1: warning:",
      },
    ]);
  });

  it("reads a Python traceback's lines, with the exception as the message", () => {
    const traceback = [
      "Traceback (most recent call last):",
      '  File "/box/main.py", line 5, in <module>',
      "    main()",
      '  File "/box/main.py", line 2, in main',
      "    return 1 / 0",
      "ZeroDivisionError: division by zero",
    ].join("\n");
    const found = located(traceback, "main.py");
    expect(found.map((l) => [l.line, l.link])).toEqual([
      [5, 'File "/box/main.py", line 5'],
      [2, 'File "/box/main.py", line 2'],
    ]);
    expect(found[1]?.message).toBe("ZeroDivisionError: division by zero");
  });

  it("reads javac, rustc, go, fpc and C# shapes, with or without a path", () => {
    expect(located("Main.java:3: error: ';' expected", "Main.java")[0]).toMatchObject({
      line: 3,
      column: null,
      message: "';' expected",
    });
    expect(located("error[E0425]: cannot find value `x`\n --> main.rs:2:13", "main.rs")[0]).toMatchObject({
      line: 2,
      column: 13,
    });
    expect(located("./main.go:7:2: undefined: fmt.Printl", "main.go")[0]).toMatchObject({
      line: 7,
      column: 2,
      message: "undefined: fmt.Printl",
    });
    expect(located('main.pas(3,5) Error: Identifier not found "x"', "main.pas")[0]).toMatchObject({
      line: 3,
      column: 5,
      severity: "error",
      message: 'Identifier not found "x"',
    });
    expect(located("main.cs(6,9): error CS1002: ; expected", "main.cs")[0]).toMatchObject({
      line: 6,
      column: 9,
      severity: "error",
      message: "; expected",
    });
  });

  it("ignores other files and look-alike names", () => {
    const text = [
      "/usr/include/stdio.h:12:3: error: something",
      "domain.c:4:1: error: not ours",
      "main.cc:4:1: error: not ours either",
    ].join("\n");
    expect(located(text, "main.c")).toEqual([]);
  });
});
