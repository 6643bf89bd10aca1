import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { SingleBar } from "cli-progress";
import type { CellblockClient, JobRequestInput } from "../client/index.ts";
import type { Verdict } from "../contract/job-result.ts";
import { detectLanguage } from "./detect-language.ts";
import { excerpt, formatUsage, PASSING } from "./format-result.ts";
import { type NamedTest, naturally } from "./read-tests.ts";

// `cellblock batch dir/`: every file of the folder (not hidden, not in subfolders) is one job —
// e.g. many submissions graded against the same --tests — sent as one batch. While it runs, a
// progress bar on stderr (when it is a terminal) shows done / running / queued from the batch's
// counts; then a line per file. cli-progress draws the bar: redrawing one line at a throttled
// rate, sized to the terminal, is solved there.

export interface BatchOptions {
  lang?: string;
  tests?: NamedTest[];
  limits?: JobRequestInput["limits"];
  compare?: JobRequestInput["compare"];
  json: boolean;
}

async function jobFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: Error) => {
    throw new Error(`${dir}: ${error.message}`);
  });
  const files = entries.filter((e) => e.isFile() && !e.name.startsWith(".")).map((e) => e.name);
  if (files.length === 0) throw new Error(`${dir}: no files to run`);
  return files.sort(naturally);
}

/** Runs the batch and returns the process exit code (0: every job passed). */
export async function runBatch(client: CellblockClient, dir: string, options: BatchOptions): Promise<number> {
  const files = await jobFiles(dir);
  const languages = options.lang ? [] : await client.languages();
  const jobs: JobRequestInput[] = await Promise.all(
    files.map(async (file) => ({
      language: options.lang ?? detectLanguage(file, languages),
      source: await readFile(path.join(dir, file), "utf8"),
      ...(options.tests
        ? { tests: options.tests.map(({ stdin, expectedOutput }) => ({ stdin, expectedOutput })) }
        : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.compare ? { compare: options.compare } : {}),
    })),
  );
  const { id } = await client.batch(jobs);
  const bar = new SingleBar({
    format: "{bar} {value}/{total} done | {running} running | {queued} queued",
    stream: process.stderr,
    hideCursor: true,
  });
  if (process.stderr.isTTY && !options.json) bar.start(files.length, 0, { running: 0, queued: files.length });
  const batch = await client
    .waitBatch(id, {
      onProgress: ({ counts }) =>
        bar.update(counts.completed + counts.failed + counts.cancelled, {
          running: counts.running,
          queued: counts.queued,
        }),
    })
    .finally(() => bar.stop());

  if (options.json) {
    const out = batch.jobs.map((job) => ({ file: files[job.index], ...job }));
    process.stdout.write(`${JSON.stringify({ id, jobs: out }, null, 2)}\n`);
  }
  const tally = new Map<string, number>();
  const width = Math.max(...files.map((f) => f.length));
  let failing = 0;
  for (const job of batch.jobs) {
    const verdict: Verdict | string = job.result?.verdict ?? job.status;
    tally.set(verdict, (tally.get(verdict) ?? 0) + 1);
    if (!job.result || !PASSING.has(job.result.verdict)) failing++;
    if (options.json) continue;
    const runs = job.result?.runs ?? [];
    const passed = options.tests
      ? ` (${runs.filter((r) => r.verdict === "accepted").length}/${options.tests.length})`
      : "";
    const last = runs.at(-1);
    console.log(
      `${(files[job.index] ?? "").padEnd(width)}  ${verdict}${passed}${last ? `  ${formatUsage(last)}` : ""}`,
    );
    if (job.error) console.log(excerpt(`${job.error.code}: ${job.error.message}`));
  }
  if (!options.json) {
    const summary = [...tally].map(([verdict, n]) => `${n} ${verdict}`).join(", ");
    console.log(`batch ${id}: ${files.length} jobs: ${summary}`);
  }
  return failing === 0 ? 0 : 1;
}
