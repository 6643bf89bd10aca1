import yauzl, { type Entry, type ZipFile } from "yauzl";
import { filePathPattern, type JobFile } from "../../contract/job-request.ts";

// Judge0's `additional_files`: a base64 zip whose files are put beside the source before compile.
// The archive is hostile input, so it is read with yauzl (which parses the central directory,
// refuses absolute paths, ".." segments and backslashes, and checks every entry's real size
// against its header) and then held to our own rules before anything is kept:
//   - regular files only: symlinks, devices and FIFOs are refused (directories are implied by paths);
//   - every path must be a plain relative path a job file may have (contract/job-request.ts);
//   - at most `maxEntries` entries in the directory and `maxFiles` files, at most `maxTotalBytes`
//     uncompressed in all (counted while inflating, not taken from the header), and no entry may
//     inflate more than `maxRatio` times its compressed size (a zip bomb) once past 64 KiB.
// Nothing touches the disk here: the files travel in the job like any other job files.

export interface ExtractLimits {
  maxEntries: number;
  maxFiles: number;
  maxTotalBytes: number;
  maxRatio: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxEntries: 256,
  maxFiles: 63,
  maxTotalBytes: 2 * 1024 * 1024,
  maxRatio: 100,
};

/** A reason the archive was refused, meant for the client. */
export class ArchiveError extends Error {}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const RATIO_FREE_BYTES = 64 * 1024;

function open(zip: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      zip,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: true, decodeStrings: true },
      (error, file) =>
        error ? reject(new ArchiveError(`is not a readable zip archive: ${error.message}`)) : resolve(file),
    );
  });
}

/** The entry's file type from the Unix mode in its external attributes (0 when the zip has none). */
function fileType(entry: Entry): number {
  return (entry.externalFileAttributes >>> 16) & S_IFMT;
}

function readEntry(file: ZipFile, entry: Entry, budget: { left: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    file.openReadStream(entry, (error, stream) => {
      if (error) return reject(new ArchiveError(`${entry.fileName}: ${error.message}`));
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => {
        budget.left -= chunk.length;
        if (budget.left < 0) {
          stream.destroy(new ArchiveError("unpacks to more than the size limit"));
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (streamError) =>
        reject(
          streamError instanceof ArchiveError
            ? streamError
            : new ArchiveError(`${entry.fileName}: ${streamError.message}`),
        ),
      );
      stream.on("end", () => resolve(Buffer.concat(chunks)));
    });
  });
}

function checkEntry(entry: Entry, limits: ExtractLimits): "file" | "dir" {
  const type = fileType(entry);
  const isDir = entry.fileName.endsWith("/");
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
    throw new ArchiveError(
      `${entry.fileName}: only regular files are allowed (no symlinks or special files)`,
    );
  }
  if (isDir || type === S_IFDIR) return "dir";
  if (!filePathPattern.test(entry.fileName) || entry.fileName.length > 255) {
    throw new ArchiveError(
      `${entry.fileName}: must be a relative path of plain segments (letters, digits, . _ + -)`,
    );
  }
  if (entry.isEncrypted()) throw new ArchiveError(`${entry.fileName}: encrypted entries are not supported`);
  if (
    entry.uncompressedSize > RATIO_FREE_BYTES &&
    entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)
  ) {
    throw new ArchiveError(`${entry.fileName}: compression ratio above ${limits.maxRatio} (zip bomb?)`);
  }
  return "file";
}

/** The archive's regular files as job files (base64 content), or an ArchiveError saying why not. */
export async function extractAdditionalFiles(
  zip: Buffer,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<JobFile[]> {
  // A buffer-backed zip holds no file descriptor: nothing to close on any path.
  const file = await open(zip);
  if (file.entryCount > limits.maxEntries) {
    throw new ArchiveError(`holds ${file.entryCount} entries; at most ${limits.maxEntries} are allowed`);
  }
  const files: JobFile[] = [];
  const seen = new Set<string>();
  const budget = { left: limits.maxTotalBytes };
  const tooBig = () => new ArchiveError(`unpacks to more than ${limits.maxTotalBytes} bytes`);
  await new Promise<void>((resolve, reject) => {
    file.on("error", (error: Error) =>
      reject(
        error instanceof ArchiveError
          ? error
          : new ArchiveError(`is not a readable zip archive: ${error.message}`),
      ),
    );
    file.on("end", () => resolve());
    file.on("entry", (entry: Entry) => {
      (async () => {
        if (checkEntry(entry, limits) === "file") {
          if (seen.has(entry.fileName)) throw new ArchiveError(`${entry.fileName}: appears twice`);
          if (files.length >= limits.maxFiles)
            throw new ArchiveError(`holds more than ${limits.maxFiles} files`);
          if (entry.uncompressedSize > budget.left) throw tooBig();
          seen.add(entry.fileName);
          const content = await readEntry(file, entry, budget);
          files.push({ path: entry.fileName, content: content.toString("base64"), encoding: "base64" });
        }
        file.readEntry();
      })().catch((error: unknown) =>
        reject(error instanceof ArchiveError ? error : new ArchiveError(String((error as Error).message))),
      );
    });
    file.readEntry();
  });
  return files;
}
