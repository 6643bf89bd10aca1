// Work dirs cannot leak (issue 9 item 1): whatever a step writes into its work dir, and however a
// job's start fails, the dir goes; a starting worker removes what dead workers left, and only that.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import type { JobRequest } from "../../contract/job-request.ts";
import { DEFAULT_UID_BASE, slotIdBase } from "../../contract/sandbox-identity.ts";
import { uidLockFile, whileUnclaimed } from "../../native/claim-uid-range.ts";
import { treeBytes, tryLockFile } from "../../native/host-files.ts";
import type { RunnableLanguage } from "../../worker/resolve-languages.ts";
import { runJob } from "../../worker/run-job.ts";
import {
  createWorkDir,
  removeWorkDir,
  sweepWorkRoot,
  workDirPath,
  workDirRemovalsSettled,
} from "../../worker/work-dir.ts";
import { describe as describeReport, run, slotHostId, TEST_SLOT } from "../native/_fixtures.ts";

const log = pino({ level: "silent" });
const roots: string[] = [];

function workRoot(): string {
  const root = fs.mkdtempSync(path.join("/dev/shm", "cellblock-test-workroot-"));
  fs.chmodSync(root, 0o711);
  roots.push(root);
  return root;
}

afterEach(async () => {
  for (const root of roots.splice(0)) await removeWorkDir(root);
});

// What a hostile compile step can leave: a tree far deeper than PATH_MAX allows a path to name,
// with a 20 MiB file at the bottom and directories of mode 000 on the way up.
const DEEP_TREE = `
import os
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
with open("big", "wb") as f:
    f.write(b"x" * (20 << 20))
for level in range(3000):
    os.chdir("..")
    if level % 500 == 0:
        os.chmod("d", 0)
print("built")
`;

describe("work dirs", () => {
  it("a 3,000-level tree with a 20 MiB file and mode-000 dirs that a step wrote is removed completely", async () => {
    const dir = workDirPath(workRoot(), slotIdBase(DEFAULT_UID_BASE, TEST_SLOT));
    createWorkDir(dir, [{ path: "deep.py", data: Buffer.from(DEEP_TREE) }], slotHostId());
    const report = await run(["/usr/bin/python3", "/box/deep.py"], {
      cwd: "/box",
      binds: [{ source: dir, target: "/box", writable: true }],
    });
    expect(report.stdout.toString(), describeReport(report)).toBe("built\n");
    // The same walk measures it (the compiled work dir is charged to the runs, run-job.test.ts).
    expect(await treeBytes(dir)).toBeGreaterThanOrEqual(20 * 1024 * 1024);
    await removeWorkDir(dir);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("a job whose files cannot all be written leaves no work dir behind", async () => {
    const root = workRoot();
    const config = loadConfig({ WORK_ROOT: root });
    // Files the edge refuses ("a" is also a directory), as a stale API version could queue them.
    const request = {
      language: "bash",
      files: [
        { path: "a/big", content: "x", encoding: "utf8" },
        { path: "a", content: "", encoding: "utf8" },
      ],
      stdin: "",
      args: [],
      compare: "trim",
      limits: {},
    } as JobRequest;
    const language = { id: "bash", sourceFile: "a", run: ["/bin/true"] } as unknown as RunnableLanguage;
    const runs = runJob(
      "job-1",
      request,
      language,
      {
        settings: { worker: config.worker, limits: config.limits, sandbox: config.sandbox },
        runSandbox: () => Promise.reject(new Error("no step may run")),
        slot: TEST_SLOT,
        uidBase: DEFAULT_UID_BASE,
        signal: new AbortController().signal,
        log,
      },
      { throwOnSetupError: true },
    );
    await expect(runs).rejects.toThrow(/EEXIST|EISDIR|ENOTDIR/);
    await workDirRemovalsSettled();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it("a starting worker removes the work dirs of dead workers and keeps those of live ones", async () => {
    const root = workRoot();
    const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), "cellblock-test-locks-"));
    try {
      const block = (slot: number) => slotIdBase(DEFAULT_UID_BASE + 40 * 65_536, slot);
      const [own, live, dead] = [block(0), block(1), block(2)];
      const holdLive = tryLockFile(uidLockFile(lockDir, live));
      expect(holdLive).not.toBeNull();
      const dirs = [own, live, dead].map((block) => workDirPath(root, block));
      for (const dir of dirs) createWorkDir(dir, [{ path: "f", data: Buffer.from("x") }], 0);
      const removed = await sweepWorkRoot(
        root,
        { ownBlocks: [own], ownFresh: true, whileUnclaimed: (b, fn) => whileUnclaimed(lockDir, b, fn) },
        log,
      );
      expect(removed).toBe(2);
      expect(dirs.map((dir) => fs.existsSync(dir))).toEqual([false, true, false]);
      holdLive?.();
    } finally {
      fs.rmSync(lockDir, { recursive: true, force: true });
    }
  });
});
