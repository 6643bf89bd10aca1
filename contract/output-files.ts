import { z } from "zod";

// Files a run writes and the job asks back (a plot, a CSV, USACO's output.txt), and the caps that
// keep a result bounded whatever the program wrote. A pattern is a relative path or a glob
// (`*.png`, `out/**/*.csv`); only regular files inside the run's work dir are ever read — a
// symlink, a FIFO, a device or a socket is listed as such and never opened or followed.

/** Each pattern: plain segments plus glob characters (* ? [ ] { } , !); no "..", no leading "/". */
const patternPattern = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._+\-*?[\]{},!/]+$/;

export const OutputFilePatternSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(patternPattern, "must be a relative path or glob (letters, digits, . _ + - * ? [ ] { } , ! /)");

/** Largest part of one file a result carries; the rest is cut and flagged. */
export const OUTPUT_FILE_MAX_BYTES = 1 << 20;
/** Largest sum of file contents one run's result carries. */
export const OUTPUT_FILES_TOTAL_MAX_BYTES = 4 << 20;
/** Largest sum of file contents a whole job's result carries (all its runs together). */
export const OUTPUT_FILES_JOB_MAX_BYTES = 8 << 20;
/** Most files one run's result lists. */
export const OUTPUT_FILES_MAX_COUNT = 100;
/** Most directory entries a run's collection looks at, so a dir of millions of files costs little. */
export const OUTPUT_FILES_MAX_SCANNED = 10_000;

export const OutputFileSchema = z.object({
  path: z.string(),
  /** "file" is read; anything else (a symlink, a FIFO, a device, a socket, a dir) never is. */
  type: z.enum(["file", "symlink", "other"]),
  sizeBytes: z.number().int().min(0),
  /** utf8 when the bytes kept are valid UTF-8 without NUL, else base64. */
  encoding: z.enum(["utf8", "base64"]),
  content: z.string(),
  /** True when the content stops before the file's end (a per-file or the total cap). */
  truncated: z.boolean(),
});

export const OutputFilesSchema = z.object({
  files: z.array(OutputFileSchema),
  /** True when more files matched than listed, or the scan stopped at its entry cap. */
  truncated: z.boolean(),
});

export type OutputFile = z.infer<typeof OutputFileSchema>;
export type OutputFiles = z.infer<typeof OutputFilesSchema>;
