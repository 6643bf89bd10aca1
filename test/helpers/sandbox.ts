// Whether the real sandbox works here. Service tests that run jobs need it and skip loudly when it
// is missing (the addon is not built, or the machine lacks user namespaces / cgroups); CI has root
// and the addon, so there the full suite runs.

export async function sandboxUnavailableReason(): Promise<string | null> {
  try {
    const { selfCheck } = await import("../../native/index.ts");
    const check = await selfCheck();
    return check.ok ? null : `sandbox self-check failed: ${check.detail}`;
  } catch (error) {
    return `sandbox addon unavailable: ${(error as Error).message}`;
  }
}
