// A live run: the same container and limits as runSandbox(), plus output handed over piece by
// piece as the supervisor reads it, stdin written while the program runs, and signals.
//
// Stdin travels through a pipe to the supervisor, which relays it through one fixed buffer into
// the job's stdin pipe, reading more only when the job has taken the last piece. The Writable
// here is a net.Socket on the pipe's write end, so a writer that outpaces the program sees
// write() return false and waits for "drain" (Node's ordinary backpressure); nothing buffers
// without bound on either side. end() is the program's end of input.
import { Socket } from "node:net";
import { constants } from "node:os";
import type { Writable } from "node:stream";
import { loadAddon } from "./addon.ts";
import { buildNativeSpec } from "./build-native-spec.ts";
import { runSandbox, sandboxHostInfo, toReport } from "./run-sandbox.ts";
import type { OutputStream, SandboxReport, SandboxSpec } from "./types.ts";

/** Signals a client may send to a live run's process group. */
export const LIVE_SIGNALS = [
  "SIGINT",
  "SIGTERM",
  "SIGKILL",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
] as const;
export type LiveSignal = (typeof LIVE_SIGNALS)[number];

export interface LiveRun {
  /** The program's stdin; end() closes it. Errors (the program closed its stdin, the run ended) are swallowed: input the program no longer reads is dropped. */
  stdin: Writable;
  /** Sends a signal to the program's process group; ignored before the program starts and after it ends. */
  signal(name: LiveSignal): void;
  /** Kills the run (stop reason "cancelled"). */
  cancel(): void;
  /** Resolves after every onOutput call, with the same report runSandbox() gives. */
  report: Promise<SandboxReport>;
}

export interface LiveRunOptions {
  /** Each piece of output kept under the cap, in order, as the supervisor reads it. */
  onOutput(stream: OutputStream, chunk: Buffer): void;
  /** Aborting kills the run, as for runSandbox(). */
  signal?: AbortSignal | undefined;
}

/** Starts a live run in a fresh container. */
export function startLiveSandbox(spec: SandboxSpec, opts: LiveRunOptions): LiveRun {
  const { config, ids } = sandboxHostInfo();
  const handle = loadAddon().run({
    ...buildNativeSpec(spec, config.uidBase, ids),
    live: true,
    onOutput: (stream, chunk) => opts.onOutput(stream === 2 ? "stderr" : "stdout", chunk),
  });
  // No stdinFd: the run failed before it had pipes; its report says why.
  const stdin =
    handle.stdinFd === undefined
      ? new Socket().destroy()
      : new Socket({ fd: handle.stdinFd, readable: false, writable: true });
  stdin.on("error", () => stdin.destroy());
  const onAbort = () => handle.cancel();
  if (opts.signal?.aborted) handle.cancel();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const report = handle.promise.then(toReport).finally(() => {
    opts.signal?.removeEventListener("abort", onAbort);
    stdin.destroy();
  });
  return {
    stdin,
    signal: (name) => handle.signal?.(constants.signals[name]),
    cancel: () => handle.cancel(),
    report,
  };
}

export interface StepOptions {
  signal?: AbortSignal | undefined;
  onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  /** Makes the run live and hands its stdin and signals to this function before it starts. */
  interactive?: ((controls: Pick<LiveRun, "stdin" | "signal">) => void) | undefined;
}

/** runSandbox(), or a live run when the step is interactive: one entry point for the worker. */
export function runStep(spec: SandboxSpec, opts: StepOptions = {}): Promise<SandboxReport> {
  if (!opts.interactive) return runSandbox(spec, opts);
  const live = startLiveSandbox(spec, { onOutput: opts.onOutput ?? (() => {}), signal: opts.signal });
  opts.interactive(live);
  return live.report;
}
