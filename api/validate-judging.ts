import { ServiceError } from "../contract/errors.ts";
import type { JobRequest, RequestLimits } from "../contract/job-request.ts";
import type { LanguageDefinition } from "../contract/language.ts";
import type { StepLimitValues } from "../contract/resolve-limits.ts";

// The contest parts of a job request that need the language list or the caller's ceilings: a
// checker's language and entry file, its limits, each test's limits. Every error names its field.

export function validateJudging(
  request: JobRequest,
  languages: ReadonlyMap<string, LanguageDefinition>,
  max: StepLimitValues,
): void {
  request.tests?.forEach((test, index) => {
    if (test.limits) checkCeilings(test.limits, `tests.${index}.limits`, max);
  });
  if (request.compareFile && !request.tests) {
    throw refusal("compareFile", "needs tests: it names the file each test judges");
  }
  request.groups?.forEach((group, index) => {
    const count = request.tests?.length ?? 0;
    const outside = group.tests.findIndex((test) => test >= count);
    if (outside >= 0) {
      throw refusal(
        `groups.${index}.tests.${outside}`,
        `no test ${group.tests[outside]}: the job has ${count}`,
      );
    }
  });
  for (const role of ["checker", "interactor"] as const) {
    const program = request[role];
    if (!program) continue;
    const language = languages.get(program.language);
    if (!language) {
      throw new ServiceError("E_UNKNOWN_LANGUAGE", program.language, { field: `${role}.language` });
    }
    if (program.files && !program.files.some((file) => file.path === language.sourceFile)) {
      throw new ServiceError("E_MISSING_ENTRY_FILE", language.sourceFile, { field: `${role}.files` });
    }
    checkCeilings(program.limits, `${role}.limits`, max);
    if (!request.tests) throw refusal(role, `needs tests: the ${role} judges each test`);
  }
  if (request.interactor) {
    // The program's stdin and stdout are the interactor's: nothing else may claim them.
    const taken = (["checker", "compareFile", "outputFiles"] as const).find((f) => request[f] !== undefined);
    if (taken) throw refusal(taken, "cannot be combined with an interactor");
    const withFiles = request.tests?.findIndex((test) => test.files || test.compareFile) ?? -1;
    if (withFiles >= 0) throw refusal(`tests.${withFiles}`, "file I/O cannot be combined with an interactor");
  }
}

/** Limits above what the caller may ask for are refused, naming the field (never clamped). */
export function checkCeilings(limits: RequestLimits, field: string, max: StepLimitValues): void {
  for (const key of Object.keys(max) as (keyof RequestLimits)[]) {
    const asked = limits[key];
    if (asked !== undefined && asked > max[key]) {
      throw new ServiceError(
        "E_LIMIT_ABOVE_CEILING",
        `${field}.${key}: ${asked} is above the maximum ${max[key]}`,
        { field: `${field}.${key}`, maximum: max[key] },
      );
    }
  }
}

function refusal(field: string, message: string): ServiceError {
  return new ServiceError("E_VALIDATION", `${field}: ${message}`, [{ field, message }]);
}
