import { z } from "zod";
import { JobFileSchema, refineSourceOrFiles } from "./job-file.ts";
import { StepLimitsSchema } from "./limits.ts";

// A program the judge runs besides the contestant's: a checker (decides each test's verdict from
// the test's input, the program's output and the expected answer, testlib's convention). It is
// given like a job's program (`source` or `files`, in any language the worker has) and runs in its
// own sandboxes with its own limits: a checker's failure is the judge's, never the contestant's.

export const JudgeProgramSchema = z
  .object({
    language: z.string().min(1).max(64),
    source: z.string().optional(),
    files: z.array(JobFileSchema).min(1).max(64).optional(),
    /** Limits of each of its runs (not its compile step, which has the language's compile limits). */
    limits: StepLimitsSchema.default({}),
  })
  .strict()
  .superRefine(refineSourceOrFiles);

export type JudgeProgram = z.infer<typeof JudgeProgramSchema>;

/**
 * What a checker's exit code means (testlib's codes): 0 accepted, 1 wrong answer, 2 presentation
 * error, 3 the checker failed (a judge failure), 4 testlib's "dirt" (a presentation error), 7
 * partial points (the score is the first number of its message, a fraction 0…1), 8 testlib's
 * unexpected end of the output (a wrong answer). Anything else, a signal or a limit is a checker
 * failure.
 */
export const CHECKER_EXIT_CODES = {
  accepted: 0,
  wrongAnswer: 1,
  presentationError: 2,
  fail: 3,
  dirt: 4,
  points: 7,
  unexpectedEof: 8,
} as const;

/**
 * Where a checker finds the test's files, in testlib's argument order (input, output, answer): a
 * dir inside its own work dir (so the mount point exists in every image), named with a leading dot
 * so no job file can take the name.
 */
export const CHECKER_DIR = "/box/.judge";
export const CHECKER_ARGS = [
  `${CHECKER_DIR}/input.txt`,
  `${CHECKER_DIR}/output.txt`,
  `${CHECKER_DIR}/answer.txt`,
];

/**
 * Interactive problems: the program's stdin and stdout and the interactor's are cross-connected by
 * two named pipes the worker makes in a dir bound read-only at INTERACTION_DIR in both sandboxes.
 * The interactor runs as testlib's `interactor input output answer` (input and answer read-only
 * in CHECKER_DIR; output a scratch file in its /tmp) and its exit code decides as a checker's does.
 */
export const INTERACTION_DIR = "/box/.io";
export const TO_PROGRAM_FIFO = `${INTERACTION_DIR}/to-program`;
export const FROM_PROGRAM_FIFO = `${INTERACTION_DIR}/from-program`;
export const INTERACTOR_ARGS = [
  `${CHECKER_DIR}/input.txt`,
  "/tmp/interactor-output.txt",
  `${CHECKER_DIR}/answer.txt`,
];

/** The longest checker message a result keeps, in characters; the rest is cut and flagged. */
export const CHECKER_MESSAGE_MAX_CHARS = 4096;
