import { z } from "zod";

// A file a request carries (the program's sources, a checker's, a test's input files) and the
// rule shared by everything that carries a program: `source` or `files`, exactly one, no path twice.

/** Relative path of a job file inside the work dir: plain segments only, no "..", no leading "/". */
export const filePathPattern =
  /^(?!\.{1,2}(?:\/|$))[A-Za-z0-9_+-][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9_+-][A-Za-z0-9._+-]*)*$/;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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

/** No two files at one path; issues name `files.<i>.path` under the caller's path. */
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
