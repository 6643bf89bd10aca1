import { describe, expect, it } from "vitest";
import { compareOutput, floatTokenEqual } from "../../worker/compare-output.ts";

describe("compare-output", () => {
  it("exact accepts only identical output", () => {
    expect(compareOutput("exact", "3\n", "3\n")).toBe(true);
    expect(compareOutput("exact", "3", "3\n")).toBe(false);
    expect(compareOutput("exact", "3 \n", "3\n")).toBe(false);
  });

  it("trim ignores trailing spaces per line, trailing newlines and CRLF but not leading spaces", () => {
    expect(compareOutput("trim", "1 2  \n3\t\n\n\n", "1 2\n3")).toBe(true);
    expect(compareOutput("trim", "1 2\r\n3\r\n", "1 2\n3\n")).toBe(true);
    expect(compareOutput("trim", " 1 2\n", "1 2\n")).toBe(false);
    expect(compareOutput("trim", "1  2\n", "1 2\n")).toBe(false);
    expect(compareOutput("trim", "1\n\n2\n", "1\n2\n")).toBe(false);
  });

  it("tokens compares whitespace-separated tokens whatever the spacing", () => {
    expect(compareOutput("tokens", "  1\n2   3 \n", "1 2 3")).toBe(true);
    expect(compareOutput("tokens", "1 2", "1 2 3")).toBe(false);
    expect(compareOutput("tokens", "1.0", "1")).toBe(false);
    expect(compareOutput("tokens", "", "\n")).toBe(true);
  });

  it("float accepts numbers within 1e-6 absolute or relative tolerance", () => {
    expect(compareOutput("float", "0.3333333\n", "0.333333333")).toBe(true);
    expect(compareOutput("float", "1000000.5", "1000000.0")).toBe(true);
    expect(compareOutput("float", "0.1", "0.2")).toBe(false);
    expect(compareOutput("float", "1e3 abc", "1000.0000001 abc")).toBe(true);
    expect(compareOutput("float", "1 abd", "1 abc")).toBe(false);
    expect(compareOutput("float", "1 2", "1")).toBe(false);
  });

  it("float never treats non-numeric or non-finite tokens as numbers", () => {
    expect(floatTokenEqual("nan", "nan")).toBe(true);
    expect(floatTokenEqual("NaN", "0")).toBe(false);
    expect(floatTokenEqual("inf", "1e400")).toBe(false);
    expect(floatTokenEqual("0x10", "16")).toBe(false);
  });
});

describe("built-in checkers by name", () => {
  it("lines compares line by line, each as tokens (testlib lcmp)", () => {
    expect(compareOutput("lines", "1  2\n3 \n\n", "1 2\n3")).toBe(true);
    expect(compareOutput("lines", "1 2 3\n", "1 2\n3\n")).toBe(false);
    expect(compareOutput("lines", "1\n\n2\n", "1\n2\n")).toBe(false);
  });

  it("float with its own epsilons accepts a 1e-7 difference and refuses 1e-3 at epsilon 1e-4", () => {
    const tight = { mode: "float", absoluteEpsilon: 1e-6, relativeEpsilon: 0 } as const;
    expect(compareOutput(tight, "0.1000001", "0.1")).toBe(true);
    expect(compareOutput(tight, "0.100002", "0.1")).toBe(false);
    const loose = { mode: "float", absoluteEpsilon: 1e-4, relativeEpsilon: 0 } as const;
    expect(compareOutput(loose, "2.001", "2")).toBe(false);
    const relative = { mode: "float", absoluteEpsilon: 0, relativeEpsilon: 1e-3 } as const;
    expect(compareOutput(relative, "1000500", "1000000")).toBe(true);
    expect(compareOutput(relative, "nan", "1")).toBe(false);
  });

  it("case_insensitive ignores letter case only", () => {
    expect(compareOutput("case_insensitive", "Hello  WORLD\n", "hello world")).toBe(true);
    expect(compareOutput("case_insensitive", "hello", "hallo")).toBe(false);
  });

  it("yes_no accepts YES/NO in any case and nothing else", () => {
    expect(compareOutput("yes_no", "yes\nNo\n", "YES\nNO\n")).toBe(true);
    expect(compareOutput("yes_no", "yes\n", "NO\n")).toBe(false);
    expect(compareOutput("yes_no", "y\n", "Y\n")).toBe(false);
  });
});
