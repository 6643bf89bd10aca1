import { readdir } from "node:fs/promises";
import { eventually } from "./eventually.ts";
import type { TestService } from "./service.ts";

/** What is left in the worker's work root once every pending removal has run (should be nothing). */
export function workRootLeftovers(service: TestService): Promise<string[]> {
  return eventually(() => readdir(service.config.worker.WORK_ROOT), {
    until: (entries) => entries.length === 0,
    what: "the work root to empty",
  });
}
