// What a job's compile step does to its work dir is the job's own doing (issue 9 item 7): it gets
// the job's verdict, never a setup error that the queue retries and counts against the sandbox.
import fs from "node:fs";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import { type JobRequestInput, JobRequestSchema } from "../../contract/job-request.ts";
import { DEFAULT_UID_BASE } from "../../contract/sandbox-identity.ts";
import { runSandbox } from "../../native/index.ts";
import type { RunnableLanguage } from "../../worker/resolve-languages.ts";
import { runJob } from "../../worker/run-job.ts";
import { removeWorkDir, workDirRemovalsSettled } from "../../worker/work-dir.ts";
import { TEST_SLOT } from "../native/_fixtures.ts";

const roots: string[] = [];

afterEach(async () => {
  await workDirRemovalsSettled();
  for (const root of roots.splice(0)) await removeWorkDir(root);
});

/** A host-layout "language" whose compile step runs `compileScript` with /box writable. */
function languageCompiling(compileScript: string, run: string[]): RunnableLanguage {
  return {
    id: "hostile",
    name: "hostile",
    versionCommand: ["/bin/true"],
    sourceFile: "main.sh",
    compile: ["/bin/sh", "-c", compileScript],
    run,
    env: {},
    limits: {},
    compileLimits: {},
    rootfs: { kind: "host" },
  };
}

async function runWith(language: RunnableLanguage, source: string) {
  const root = fs.mkdtempSync(path.join("/dev/shm", "cellblock-test-workroot-"));
  fs.chmodSync(root, 0o711);
  roots.push(root);
  const config = loadConfig({ WORK_ROOT: root });
  const request = JobRequestSchema.parse({ language: language.id, source } satisfies JobRequestInput);
  return runJob(
    "job-1",
    request,
    language,
    {
      settings: { worker: config.worker, limits: config.limits, sandbox: config.sandbox },
      runSandbox,
      slot: TEST_SLOT,
      uidBase: DEFAULT_UID_BASE,
      signal: new AbortController().signal,
      log: pino({ level: "silent" }),
    },
    { throwOnSetupError: true },
  );
}

describe("a compile step's doing", () => {
  it("chmod 000 /box during compile does not stop the runs from entering the work dir", async () => {
    const language = languageCompiling("chmod 000 /box", ["/bin/sh", "/box/main.sh"]);
    const result = await runWith(language, "echo ran");
    expect(result.verdict).toBe("ok");
    expect(result.runs[0]?.stdout).toBe("ran\n");
  });

  it("a program the compile step made non-executable is the job's runtime_error, not a retried setup error", async () => {
    const language = languageCompiling("cp main.sh main && chmod 000 main", ["/box/main"]);
    const result = await runWith(language, "echo never");
    expect(result.verdict).toBe("runtime_error");
    expect(result.runs[0]?.error).toMatch(/execve \/box\/main.*EACCES/);
  });
});
