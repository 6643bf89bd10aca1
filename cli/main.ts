import { readFile } from "node:fs/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import { CellblockClient } from "../client/index.ts";
import type { CompareMode } from "../contract/job-request.ts";
import type { StepLimits } from "../contract/limits.ts";
import { runBatch } from "./batch-command.ts";
import { detectLanguage } from "./detect-language.ts";
import {
  formatJobView,
  formatLanguages,
  formatPlainSummary,
  formatTestedResult,
  PASSING,
} from "./format-result.ts";
import { parseLimits } from "./parse-limits.ts";
import { readTests } from "./read-tests.ts";

// `cellblock`: the command line on the typed client (client/). Its entry point (cli/cellblock.ts)
// hands it the environment: CELLBLOCK_URL and CELLBLOCK_API_KEY, which flags override. Exit codes:
// 0 the program passed (ok / accepted), 1 it did not (any other verdict, a failed or cancelled
// job), 2 the command could not be carried out (bad usage, the service refused, unreachable).
// commander parses the arguments: subcommands, help and error messages are solved there.

const COMPARE_MODES: CompareMode[] = ["exact", "trim", "tokens", "float"];

interface GlobalOptions {
  url: string;
  key?: string;
}

function clientFrom(program: Command): CellblockClient {
  const { url, key } = program.opts<GlobalOptions>();
  return new CellblockClient({
    baseUrl: url,
    ...(key ? { apiKey: key } : {}),
    onRetry: ({ delayMs, error }) => console.error(`cellblock: ${error.code}; retrying in ${delayMs} ms`),
  });
}

const limitsOption = () =>
  new Option("--limits <spec>", "per-run limits, e.g. cpu=1s,wall=5s,memory=64M,pids=32,output=1M").argParser(
    (spec: string) => {
      try {
        return parseLimits(spec);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    },
  );
const compareOption = () =>
  new Option("--compare <mode>", "how outputs are compared with --tests").choices(COMPARE_MODES);

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

interface RunOptions {
  lang?: string;
  stdin?: string;
  tests?: string;
  limits?: StepLimits;
  compare?: CompareMode;
  arg: string[];
  waitMs?: number;
  json: boolean;
}

async function runCommand(program: Command, file: string, options: RunOptions): Promise<number> {
  const client = clientFrom(program);
  const source = await readFile(file, "utf8").catch((error: Error) => {
    throw new Error(`${file}: ${error.message}`);
  });
  const language = options.lang ?? detectLanguage(file, await client.languages());
  const tests = options.tests ? await readTests(options.tests) : undefined;
  const stdin = options.stdin ? await readFile(options.stdin, "utf8") : undefined;
  const result = await client.run(
    {
      language,
      source,
      ...(stdin !== undefined ? { stdin } : {}),
      ...(options.arg.length > 0 ? { args: options.arg } : {}),
      ...(tests ? { tests: tests.map(({ stdin, expectedOutput }) => ({ stdin, expectedOutput })) } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.compare ? { compare: options.compare } : {}),
    },
    options.waitMs === undefined ? {} : { waitMs: options.waitMs },
  );
  if (options.json) printJson(result);
  else if (tests) console.log(formatTestedResult(result, tests));
  else {
    // A plain run prints what the program printed, where it printed it, then the verdict.
    const run = result.runs[0];
    if (run) {
      process.stdout.write(run.stdout);
      process.stderr.write(run.stderr);
    }
    console.error(formatPlainSummary(result));
  }
  return PASSING.has(result.verdict) ? 0 : 1;
}

function buildProgram(env: NodeJS.ProcessEnv, setExitCode: (code: number) => void): Command {
  const program = new Command("cellblock")
    .description("Run programs in cellblock's sandbox from the command line")
    .option("--url <url>", "the service (env CELLBLOCK_URL)", env.CELLBLOCK_URL ?? "http://127.0.0.1:8080")
    .option("--key <key>", "API key (env CELLBLOCK_API_KEY)", env.CELLBLOCK_API_KEY || undefined)
    .showHelpAfterError()
    .exitOverride();
  const done = (code: number) => setExitCode(code);

  program
    .command("run")
    .description("run a program, with its tests if given; prints verdicts and usage")
    .argument("<file>", "the program (its extension picks the language unless --lang)")
    .option("--lang <id>", "language id (see `cellblock languages`)")
    .option("--stdin <file>", "standard input of a plain run")
    .option("--tests <dir>", "a folder of NAME.in / NAME.out (or .ans) pairs")
    .addOption(limitsOption())
    .addOption(compareOption())
    .option(
      "--arg <value>",
      "an argument for the program (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option("--wait-ms <ms>", "how long POST /run waits before the client polls", (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError("a whole number of milliseconds");
      return Number(v);
    })
    .option("--json", "print the service's result as JSON", false)
    .action(async (file: string, options: RunOptions) => done(await runCommand(program, file, options)));

  program
    .command("languages")
    .description("list the languages the service runs")
    .option("--json", "print JSON", false)
    .action(async (options: { json: boolean }) => {
      const languages = await clientFrom(program).languages();
      if (options.json) printJson(languages);
      else console.log(formatLanguages(languages));
      done(0);
    });

  const jobs = program.command("jobs").description("look at or cancel a job by id");
  jobs
    .command("get")
    .argument("<id>", "job id")
    .option("--json", "print JSON", false)
    .action(async (id: string, options: { json: boolean }) => {
      const view = await clientFrom(program).get(id);
      if (options.json) printJson(view);
      else console.log(formatJobView(view));
      done(view.result && PASSING.has(view.result.verdict) ? 0 : 1);
    });
  jobs
    .command("cancel")
    .argument("<id>", "job id")
    .option("--json", "print JSON", false)
    .action(async (id: string, options: { json: boolean }) => {
      const view = await clientFrom(program).cancel(id);
      if (options.json) printJson(view);
      else console.log(formatJobView(view));
      done(0);
    });

  program
    .command("batch")
    .description("run every file of a folder as one batch, with a progress bar")
    .argument("<dir>", "folder of programs")
    .option("--lang <id>", "language of every file (default: by extension)")
    .option("--tests <dir>", "tests every program must pass (NAME.in / NAME.out pairs)")
    .addOption(limitsOption())
    .addOption(compareOption())
    .option("--json", "print JSON", false)
    .action(
      async (
        dir: string,
        options: { lang?: string; tests?: string; limits?: StepLimits; compare?: CompareMode; json: boolean },
      ) => {
        const tests = options.tests ? await readTests(options.tests) : undefined;
        done(await runBatch(clientFrom(program), dir, { ...options, tests }));
      },
    );
  return program;
}

/** Parses `argv` and runs the command; resolves to the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(env, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    const commanderCode = (error as { code?: string; exitCode?: number }).code;
    if (commanderCode?.startsWith("commander.")) {
      // Help and version are not failures; commander has already printed its message.
      return commanderCode === "commander.helpDisplayed" || commanderCode === "commander.version" ? 0 : 2;
    }
    // CellblockApiError messages start with the service's code (E_UNKNOWN_LANGUAGE: language: …).
    console.error(`cellblock: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}
