import type { JobRequest } from "../contract/job-request.ts";
import type { Step, Verdict } from "../contract/job-result.ts";
import { type PreparedChecker, prepareChecker } from "./run-checker.ts";
import { type PreparedInteractor, prepareInteractor } from "./run-interactive.ts";
import type { JudgeLanguages, StepContext } from "./step-context.ts";

// A job's judge programs (its checker, its interactor), each built once before the tests run.

export interface PreparedJudges {
  checker: PreparedChecker | null;
  interactor: PreparedInteractor | null;
  /** Their compile steps, for the job result. */
  compiles: { checkerCompile?: Step; interactorCompile?: Step };
  /** Set when one cannot judge (it did not compile): the job's verdict, before any test runs. */
  failedVerdict: Verdict | null;
  dispose(): void;
}

export async function prepareJudges(
  request: Pick<JobRequest, "checker" | "interactor">,
  languages: JudgeLanguages,
  ctx: StepContext,
): Promise<PreparedJudges> {
  const judges: PreparedJudges = {
    checker: null,
    interactor: null,
    compiles: {},
    failedVerdict: null,
    dispose() {
      this.checker?.dispose();
      this.interactor?.dispose();
    },
  };
  try {
    if (request.checker) {
      judges.checker = await prepareChecker(request.checker, required(languages.checker, "checker"), ctx);
      if (judges.checker.compile) judges.compiles.checkerCompile = judges.checker.compile;
    }
    if (request.interactor) {
      const language = required(languages.interactor, "interactor");
      judges.interactor = await prepareInteractor(request.interactor, language, ctx);
      if (judges.interactor.compile) judges.compiles.interactorCompile = judges.interactor.compile;
    }
  } catch (error) {
    judges.dispose();
    throw error;
  }
  const failed = [judges.checker, judges.interactor].find((judge) => judge && !judge.ready);
  if (failed) judges.failedVerdict = failed.compile?.verdict ?? "checker_error";
  return judges;
}

/** The dispatch gate admits a job only where its judges' languages exist. */
function required<T>(language: T | undefined, what: string): T {
  if (!language) throw new Error(`${what} language is not available on this worker`);
  return language;
}
