// Host set-up and the readiness self-check: the service refuses work unless a real container runs.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { sandboxHostInfo, selfCheck } from "../../native/index.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

describe("host set-up", () => {
  it("the self-check runs a real container and reports the host ready", async () => {
    const result = await selfCheck();
    expect(result, result.detail).toMatchObject({ ok: true });
  });

  it("detects the cgroup version this host mounts", () => {
    const v2 = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
    expect(sandboxHostInfo().cgroupVersion).toBe(v2 ? 2 : 1);
  });

  it("compiles a non-trivial seccomp filter", () => {
    expect(sandboxHostInfo().seccompInstructions).toBeGreaterThan(50);
  });
});
