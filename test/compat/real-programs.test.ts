// Real programs (node, g++, java, sqlite3) behave the same bare and in the sandbox (issue 10).
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { installLeakChecks } from "../native/_leaks.ts";
import { REAL_PROGRAMS, runProgramBare, runProgramInSandbox } from "./real-programs.ts";

installLeakChecks();

describe("real programs bare and in the sandbox", () => {
  for (const program of REAL_PROGRAMS) {
    it.skipIf(!fs.existsSync(program.needs))(`${program.name} (needs ${program.needs})`, async () => {
      const bare = runProgramBare(program);
      expect(bare.ended, "bare").toBe("exit 0");
      const sandbox = await runProgramInSandbox(program);
      expect(sandbox.ended, "sandbox").toBe("exit 0");
      expect(sandbox.stdout).toBe(bare.stdout);
    });
  }
});
