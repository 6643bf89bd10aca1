import { spawn } from "node:child_process";

// Child processes of the image driver. Build steps (debootstrap, apt-get in a chroot, tar) are long
// and chatty; their output is kept in a bounded tail so a failure message can show the last lines
// without flooding the terminal, and progress goes to stderr as one line per step.

export interface RunOptions {
  /** Extra environment on top of a minimal, predictable one (no inherited locale or proxies surprises). */
  env?: Record<string, string>;
  cwd?: string;
  /** Data written to the child's stdin. */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const TAIL_BYTES = 16_384;

/** Runs argv to completion; rejects with the command and the tail of its output when it fails. */
export function runCommand(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("runCommand: empty argv");
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        LANG: "C.UTF-8",
        HOME: "/root",
        ...options.env,
      },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-TAIL_BYTES);
    });
    child.on("error", (error) => reject(new Error(`${argv.join(" ")}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      const tail = (stderr || stdout.slice(-TAIL_BYTES)).trim().split("\n").slice(-15).join("\n");
      reject(new Error(`${argv.slice(0, 4).join(" ")} … failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
    if (child.stdin) {
      // A child may exit before reading its input; that shows in its exit status, not as EPIPE here.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
  });
}

type ProgressListener = (image: string, message: string) => void;
const listeners = new Set<ProgressListener>();

/** Sends progress lines to `listener` instead of stderr (a progress display); returns the unsubscribe. */
export function onProgress(listener: ProgressListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** One progress line on stderr, prefixed by the image name so parallel builds stay readable. */
export function progress(image: string, message: string): void {
  if (listeners.size > 0) {
    for (const listener of listeners) listener(image, message);
    return;
  }
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`${time} [${image}] ${message}\n`);
}
