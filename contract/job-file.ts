import { z } from "zod";

// A file a request carries (the program's sources, a checker's, a test's input files) and the
// rule shared by everything that carries a program: `source` or `files`, exactly one, no path twice.

/** Relative path of a job file inside the work dir: plain segments only, no "..", no leading "/". */
export const filePathPattern =
  /^(?!\.{1,2}(?:\/|$))[A-Za-z0-9_+-][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;
export const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A relative path of plain segments (letters, digits, . _ + -). */
export const FilePathSchema = z
  .string()
  .max(255)
  .regex(filePathPattern, "must be a relative path of plain segments (letters, digits, . _ + -)");

export const JobFileSchema = z
  .object({
    path: FilePathSchema,
    content: z.string(),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
  })
  .strict()
  .superRefine((file, ctx) => {
    if (file.encoding === "base64" && !base64Pattern.test(file.content)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["content"], message: "is not valid base64" });
    }
  });

export type JobFile = z.infer<typeof JobFileSchema>;

/**
 * No two files at one path, and no file inside another file; issues name `files.<i>.path` under
 * the caller's path.
 */
export function refineUniquePaths(files: JobFile[] | undefined, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  files?.forEach((file, index) => {
    if (seen.has(file.path)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["files", index, "path"],
        message: `duplicates an earlier file path "${file.path}"`,
      });
    }
    seen.add(file.path);
  });
  // A file cannot also be a directory: with "a" and "a/b" one of the two writes must fail, after
  // the other one was written. Checked here, so the worker never starts a work dir it cannot finish.
  files?.forEach((file, index) => {
    const parent = parentDirs(file.path).find((dir) => seen.has(dir));
    if (parent !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["files", index, "path"],
        message: `is inside "${parent}", which is also a file`,
      });
    }
  });
}

/** "a/b/c" → ["a", "a/b"]. */
function parentDirs(filePath: string): string[] {
  const segments = filePath.split("/");
  return segments.slice(1).map((_, i) => segments.slice(0, i + 1).join("/"));
}

/** Exactly one of `source` or `files`, and no path twice. */
export function refineSourceOrFiles(
  program: { source?: string | undefined; files?: JobFile[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((program.source === undefined) === (program.files === undefined)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["source"],
      message: "exactly one of source or files is required",
    });
  }
  refineUniquePaths(program.files, ctx);
}
