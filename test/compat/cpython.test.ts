// CPython's own tests as the oracle (issue 10): the fast subset runs bare and in the sandbox; a test
// that passes bare must pass in the sandbox unless known-differences.ts gives the security reason.
// `npm run compat` runs the broad list and prints the table.
import { describe, expect, it } from "vitest";
import { installLeakChecks } from "../native/_leaks.ts";
import { differences, runBare, runInSandbox, testsuiteInstalled } from "./cpython-tests.ts";
import { knownReason } from "./known-differences.ts";
import { SUBSET } from "./modules.ts";

installLeakChecks();

describe.skipIf(!testsuiteInstalled())(
  "CPython's own tests (needs libpython3.11-testsuite, installed by scripts/setup.sh)",
  () => {
    it.each(SUBSET)(
      "%s: every test that passes bare passes in the sandbox, or has a documented reason",
      async (module) => {
        const bare = await runBare(module);
        const sandbox = await runInSandbox(module);
        expect(bare.tests.size, `${module} ran no tests bare (${bare.ended})`).toBeGreaterThan(0);
        expect(sandbox.ended, "the interpreter ended by itself, not by the sandbox").toMatch(/^exit [0-9]+$/);
        const unexplained = differences(bare, sandbox).filter((d) => !knownReason(d.test));
        expect(unexplained).toEqual([]);
      },
    );
  },
);
