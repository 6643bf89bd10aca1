import type { Step, Verdict } from "../contract/job-result.ts";
import type { SandboxReport } from "../native/types.ts";

// Turns a sandbox report into the Step clients see. Output is already bounded by the step's
// outputBytes limit (the sandbox stops capturing there), so results stay bounded too.

export function stepFromReport(report: SandboxReport, verdict: Verdict): Step {
  const step: Step = {
    verdict,
    exitCode: report.exitCode,
    signal: report.signal,
    stopReason: report.stopReason,
    stdout: report.stdout.toString("utf8"),
    stderr: report.stderr.toString("utf8"),
    stdoutTruncated: report.stdoutTruncated,
    stderrTruncated: report.stderrTruncated,
    usage: {
      cpuTimeMs: report.cpuTimeMs,
      wallTimeMs: report.wallTimeMs,
      peakMemoryBytes: report.peakMemoryBytes,
    },
  };
  if (report.setupError) {
    // The message names the failing step and the errno ("mount proc on /proc: EPERM (…hint)").
    step.error = report.setupError.message;
  }
  if (report.blockedSyscall) {
    // From the kernel's seccomp notification to our init, never from the program's output.
    step.blockedSyscall = report.blockedSyscall;
    step.error = `killed by the sandbox: syscall \`${report.blockedSyscall}\` is not allowed`;
  }
  return step;
}
