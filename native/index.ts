// Thin typed front of the sandbox addon. One runSandbox() call = one fresh container running one
// process; the promise resolves with a SandboxReport (it never rejects for the program's own
// failures; setup failures resolve with status "setup_error").

export { claimUidRange, type UidRangeClaim, whileUnclaimed } from "./claim-uid-range.ts";
export { removeTree } from "./host-files.ts";
export type { IdLayout, IdMapMode, RootlessIdMap } from "./rootless.ts";
export type { LiveRun, LiveRunOptions, LiveSignal, StepOptions } from "./run-live-sandbox.ts";
export { LIVE_SIGNALS, runStep, startLiveSandbox } from "./run-live-sandbox.ts";
export type { SandboxHostConfig, SandboxHostInfo, SelfCheckResult } from "./run-sandbox.ts";
export {
  configureSandbox,
  jobHostId,
  makeFifo,
  releaseStandbys,
  runSandbox,
  sandboxHostInfo,
  selfCheck,
} from "./run-sandbox.ts";
export type {
  BindSpec,
  IoLimits,
  OutputStream,
  RootfsSpec,
  SandboxLimits,
  SandboxPhase,
  SandboxReport,
  SandboxSpec,
  SandboxStatus,
  SetupError,
  StopReason,
} from "./types.ts";
