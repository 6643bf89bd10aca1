// Host set-up on a real cgroup v2 kernel, in the VM of `npm run test:v2` (CELLBLOCK_V2VM=1): a worker
// inside its own delegated group (v2's no-internal-process rule), and the sandbox's prerequisites
// taken away for real, one at a time, where a fresh process's self-check must fail and name what is
// missing and how to fix it. Changing sysctls and cgroups of a shared host is not ours to
// do, so anywhere else this file skips. (What cannot be taken away here, an old kernel, a kernel
// without seccomp and Ubuntu's AppArmor restriction, is covered by host-prerequisites.test.ts.)
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const inVm = process.env.CELLBLOCK_V2VM === "1";
if (!inVm)
  console.warn(
    "SKIPPED v2 prerequisite tests: they change sysctls and cgroups, so they run only in test:v2's VM",
  );

const repo = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** A fresh process configures the sandbox (cgroupRoot given) and runs the self-check; its JSON. */
async function selfCheck(
  opts: { cgroupRoot?: string; asUid?: number; inCgroup?: string } = {},
): Promise<{ ok: boolean; detail: string }> {
  const script = `
    import { configureSandbox, selfCheck } from "./native/index.ts";
    let r;
    try { configureSandbox(${JSON.stringify(opts.cgroupRoot ? { cgroupRoot: opts.cgroupRoot } : {})}); r = await selfCheck(); }
    catch (e) { r = { ok: false, detail: e.message }; }
    console.log(JSON.stringify(r));`;
  const node = [process.execPath, "--import", "tsx", "--input-type=module", "-e", script];
  let argv =
    opts.asUid === undefined
      ? node
      : ["setpriv", `--reuid=${opts.asUid}`, `--regid=${opts.asUid}`, "--clear-groups", ...node];
  // Join the group first, as a worker started by systemd or a container runtime is born in it.
  if (opts.inCgroup) argv = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', opts.inCgroup, ...argv];
  const { stdout } = await run(argv[0] as string, argv.slice(1), { cwd: repo, timeout: 120_000 });
  return JSON.parse(stdout.trim().split("\n").pop() as string);
}

const restore: (() => void)[] = [];
afterEach(() => {
  for (const undo of restore.splice(0).reverse()) undo();
});

function setSysctl(file: string, value: string): void {
  const before = fs.readFileSync(file, "utf8");
  fs.writeFileSync(file, value);
  restore.push(() => fs.writeFileSync(file, before));
}

describe.skipIf(!inVm)("missing prerequisites on a real cgroup v2 host (test:v2's VM)", () => {
  it("passes with everything in place", async () => {
    expect(await selfCheck()).toMatchObject({ ok: true });
  }, 150_000);

  it("a worker living in its delegated group moves itself into a leaf, enables the controllers and runs", async () => {
    // Enabling controllers for children of a non-root group that holds a process is EBUSY on v2.
    const root = "/sys/fs/cgroup/cellblock-test-delegated";
    fs.mkdirSync(root, { recursive: true });
    restore.push(() => {
      for (const child of fs.readdirSync(root, { withFileTypes: true }))
        if (child.isDirectory()) fs.rmdirSync(path.join(root, child.name));
      fs.rmdirSync(root);
    });
    expect(await selfCheck({ cgroupRoot: root, inCgroup: root })).toMatchObject({ ok: true });
    expect(fs.readFileSync(`${root}/cgroup.subtree_control`, "utf8").split(/\s+/)).toEqual(
      expect.arrayContaining(["memory", "pids", "cpu"]),
    );
  }, 150_000);

  it("names user namespaces disabled by sysctl, and the sysctl that fixes it", async () => {
    setSysctl("/proc/sys/user/max_user_namespaces", "0");
    const r = await selfCheck();
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("user-namespaces: user namespaces are disabled");
    expect(r.detail).toContain("sysctl -w user.max_user_namespaces=");
  }, 150_000);

  it("names memory, pids and cpu missing from a cgroup root they were not delegated to", async () => {
    // The group's parent enables no controller for its children: its cgroup.controllers is empty.
    const outer = "/sys/fs/cgroup/cellblock-test-nodelegation";
    fs.mkdirSync(`${outer}/inner`, { recursive: true });
    restore.push(() => {
      fs.rmdirSync(`${outer}/inner`);
      fs.rmdirSync(outer);
    });
    const r = await selfCheck({ cgroupRoot: `${outer}/inner` });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("cgroup-controllers: cgroup controllers memory, pids, cpu are not available");
    expect(r.detail).toContain("Delegate=yes");
  }, 150_000);

  it("names a worker that is not root", async () => {
    const r = await selfCheck({ asUid: 65534 });
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("root: the worker runs as uid 65534");
  }, 150_000);
});
