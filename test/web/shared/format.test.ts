import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatCount, formatMs } from "../../../web/src/shared/format.ts";

describe("numbers as people read them", () => {
  it("memory in binary units with two or three significant digits", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3_391_488)).toBe("3.23 MiB");
    expect(formatBytes(268_435_456)).toBe("256 MiB");
    expect(formatBytes(1024 ** 3 * 1.5)).toBe("1.50 GiB");
  });

  it("times in ms below a second, seconds above, minutes beyond", () => {
    expect(formatMs(0.25)).toBe("0.25 ms");
    expect(formatMs(61.4)).toBe("61 ms");
    expect(formatMs(1234)).toBe("1.23 s");
    expect(formatMs(12_345)).toBe("12.3 s");
    expect(formatMs(125_000)).toBe("2 min 5 s");
  });

  it("rates and ages", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(0.4)).toBe("0.4");
    expect(formatCount(3)).toBe("3");
    expect(formatCount(36.2)).toBe("36");
    expect(formatCount(1250)).toBe("1.3k");
    expect(formatAgo(4_400)).toBe("4 s ago");
    expect(formatAgo(125_000)).toBe("2 min ago");
  });
});
