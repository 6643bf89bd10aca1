import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// A worker as its own process (`node --import tsx app/worker-main.ts`), so a test can SIGKILL it the
// way a crash or an OOM kill would. Ready when its log says "worker started".

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  /** Job ids this worker logged as finished ("job finished" lines), in order. */
  finishedJobIds(): string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "app/worker-main.ts"], {
    cwd: root,
    env: { ...env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output.join("")}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join("").includes('"msg":"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${signal ?? code}) before starting:\n${output.join("")}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid: child.pid as number,
    child,
    finishedJobIds: () =>
      output
        .join("")
        .split("\n")
        .filter((line) => line.includes('"msg":"job finished"'))
        .map((line) => (JSON.parse(line) as { jobId: string }).jobId),
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
