// Pieces of verification that do not need an image: the version line.
import { describe, expect, it } from "vitest";
import { versionLine } from "../../rootfs-recipes/lib/verify-image.ts";

describe("image verification helpers", () => {
  it("the version is the first non-empty output line, stdout before stderr", () => {
    expect(versionLine("\nPython 3.11.2\n", "")).toBe("Python 3.11.2");
    expect(versionLine("", 'openjdk version "17.0.21.1"\nOpenJDK Runtime')).toBe(
      'openjdk version "17.0.21.1"',
    );
  });

  it("a JVM warning printed before kotlinc's version is skipped", () => {
    const stderr =
      "OpenJDK 64-Bit Server VM warning: Options -Xverify:none are deprecated\ninfo: kotlinc-jvm 1.3.31\n";
    expect(versionLine("", stderr)).toBe("info: kotlinc-jvm 1.3.31");
  });

  it("a version command that prints only a warning still reports it rather than nothing", () => {
    expect(versionLine("", "warning: odd\n")).toBe("warning: odd");
  });
});
