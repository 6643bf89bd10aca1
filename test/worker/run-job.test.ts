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

const MiB = 1024 * 1024;
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
    compileLimits: { memoryBytes: 256 * MiB },
    rootfs: { kind: "host" },
  };
}

async function runWith(language: RunnableLanguage, source: string, limits: JobRequestInput["limits"] = {}) {
  const root = fs.mkdtempSync(path.join("/dev/shm", "cellblock-test-workroot-"));
  fs.chmodSync(root, 0o711);
  roots.push(root);
  const config = loadConfig({ WORK_ROOT: root });
  const request = JobRequestSchema.parse({ language: language.id, source, limits } satisfies JobRequestInput);
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

// Issue 9 item 11: the compile step's cgroup is gone when the runs start, so what it left in /box
// (tmpfs: host RAM) counted against no limit, and a job could hold compile + run limit at once.
describe("the compiled work dir", () => {
  /** A compile step that leaves `bytes` in /box, then a run allocating 48 MiB within 96 MiB. */
  function ballastThenAllocate(bytes: number) {
    const language = languageCompiling(`head -c ${bytes} /dev/zero > /box/ballast`, [
      "/usr/bin/python3",
      "-c",
      "b = bytearray(48 << 20); print(len(b))",
    ]);
    return runWith(language, "", { memoryBytes: 96 * MiB });
  }

  it("counts against each run's memory limit", async () => {
    const result = await ballastThenAllocate(60_000_000);
    expect(result.compile?.verdict).toBe("ok");
    expect(result.verdict, JSON.stringify(result.runs[0])).toBe("memory_limit");
  });

  it("a small compile output leaves the run nearly all of its memory", async () => {
    const result = await ballastThenAllocate(1_000_000);
    expect(result.verdict, JSON.stringify(result.runs[0])).toBe("ok");
  });
});
