import { release } from "node:os";

// Some kernel features the tests look at are newer than the oldest kernel the sandbox runs on
// (test:v2 boots Debian 12's 6.1): the tests expect what each kernel really does.

/** Whether the running kernel is at least major.minor (from os.release(), e.g. "6.1.0-28-amd64"). */
export function kernelAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = release().split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}
