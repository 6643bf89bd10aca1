import type { JobRequest, JobTest } from "../contract/job-request.ts";
import type { OutputFiles } from "../contract/output-files.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";
import { slotIdBase } from "../contract/sandbox-identity.ts";
import { collectOutputFiles, readRunFile } from "./collect-output-files.ts";
import { slotJobHostId } from "./job-host-id.ts";
import { createRunDir } from "./run-dir.ts";
import type { StepContext } from "./step-context.ts";
import { jobFiles, removeWorkDirLater } from "./work-dir.ts";

// File I/O of one run: a run whose test has input files, or whose job judges a file or asks for
// files back, gets its own writable copy of the work dir (run-dir.ts); after the run, the judged
// file and the asked-for files are read from it (collect-output-files.ts), then it is removed.

/** What judging sees as the program's output when a file replaces stdout. */
export type JudgedFile =
  /** The file's bytes (at most the run's outputBytes). */
  | { kind: "file"; data: Buffer }
  /** Missing, not a regular file, or behind a symlink: judged as no answer. */
  | { kind: "missing" }
  /** Longer than the run's outputBytes, as stdout would be. */
  | { kind: "too_long" };

export interface RunIo {
  dir: string;
  /** The file judged instead of stdout, when the test or job names one. */
  judgedFile(limits: StepLimitValues): JudgedFile | undefined;
  outputFiles(): OutputFiles | undefined;
  dispose(): void;
}

type RunTest = Partial<Pick<JobTest, "files" | "compareFile">>;

export async function prepareRunIo(
  request: Pick<JobRequest, "compareFile" | "outputFiles">,
  test: RunTest,
  jobDir: string,
  ctx: StepContext,
  /** What the job's result may still carry of file contents (collect-output-files.ts). */
  fileBudget: { bytes: number },
): Promise<RunIo | null> {
  const compareFile = test.compareFile ?? request.compareFile;
  if (!test.files && !compareFile && !request.outputFiles) return null;
  const inputs = test.files ? jobFiles(undefined, test.files, "") : [];
  const hostId = slotJobHostId(ctx.uidBase, ctx.slot);
  const dir = await createRunDir(
    ctx.settings.worker.WORK_ROOT,
    slotIdBase(ctx.uidBase, ctx.slot),
    jobDir,
    inputs,
    hostId,
  );
  return {
    dir,
    judgedFile(limits) {
      if (!compareFile) return undefined;
      const read = readRunFile(dir, compareFile, limits.outputBytes + 1);
      if (!read) return { kind: "missing" };
      return read.sizeBytes > limits.outputBytes ? { kind: "too_long" } : { kind: "file", data: read.data };
    },
    outputFiles: () =>
      request.outputFiles ? collectOutputFiles(dir, request.outputFiles, fileBudget) : undefined,
    dispose: () => removeWorkDirLater(dir, ctx.log),
  };
}
