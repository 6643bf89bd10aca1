// Whether the real sandbox works here. Service tests that run jobs need it and skip loudly when it
// is missing (the addon is not built, or the machine lacks user namespaces / cgroups); CI has root
// and the addon, so there the full suite runs.

export async function sandboxUnavailableReason(): Promise<string | null> {
  try {
    const { configureSandbox, selfCheck } = await import("../../native/index.ts");
    // A rootless run (scripts/v2-rootless.sh) checks the sandbox the worker will configure: its
    // delegated cgroup root and id mapping come from the service's settings, not the defaults.
    if ((process.getuid?.() ?? 0) !== 0) {
      const { loadConfig } = await import("../../config/load-config.ts");
      const { sandboxHostConfig } = await import("../../worker/sandbox-host.ts");
      configureSandbox(sandboxHostConfig(loadConfig(process.env).sandbox, { prewarm: false }));
    }
    const check = await selfCheck();
    return check.ok ? null : `sandbox self-check failed: ${check.detail}`;
  } catch (error) {
    return `sandbox addon unavailable: ${(error as Error).message}`;
  }
}
