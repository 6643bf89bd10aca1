// The service worker as an ordinary user (docs/CGROUP-V2.md, "Rootless worker"): its own work root
// (refused when another user made the name first), its lock dir, no chown in single-id mode, and
// subid mode refused by name. The worker passing the smoke test rootless is proven in the cgroup v2
// VM (V2_ROOTLESS=single V2_ROOTLESS_SMOKE=1 npm run test:v2); these are the parts a v1 host can show.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../config/load-config.ts";
import { DEFAULT_UID_BASE, jobHostId } from "../../contract/sandbox-identity.ts";
import { KEEP_OWNER, slotJobHostId, useJobHostIds } from "../../worker/job-host-id.ts";
import { ROOTLESS_SUBID_REFUSAL, sandboxLockDir } from "../../worker/sandbox-host.ts";
import { createWorkDir, prepareWorkRoot, removeWorkDir } from "../../worker/work-dir.ts";

const made: string[] = [];
function fresh(name: string): string {
  const dir = fs.mkdtempSync(path.join("/dev/shm", `cellblock-test-${name}-`));
  made.push(dir);
  return dir;
}

afterEach(async () => {
  useJobHostIds("root");
  for (const dir of made.splice(0)) await removeWorkDir(dir);
});

const isRoot = process.getuid?.() === 0;

describe("a rootless worker's work root and locks", () => {
  it("makes its work root 0711, and refuses one that is a symlink or another user's dir", async () => {
    const parent = fresh("parent");
    const own = path.join(parent, "work");
    await prepareWorkRoot(own);
    expect(fs.statSync(own).mode & 0o777).toBe(0o711);
    await prepareWorkRoot(own); // again at the next start: still ours
    const target = path.join(parent, "elsewhere");
    fs.mkdirSync(target);
    fs.symlinkSync(target, path.join(parent, "link"));
    await expect(prepareWorkRoot(path.join(parent, "link"))).rejects.toThrow(
      /is not a directory of this worker's uid/,
    );
    if (isRoot) {
      const foreign = path.join(parent, "foreign");
      fs.mkdirSync(foreign, { mode: 0o777 });
      fs.chownSync(foreign, 65534, 65534);
      await expect(prepareWorkRoot(foreign)).rejects.toThrow(/WORK_ROOT .*foreign is not a directory/);
    }
  });

  it("keeps its uid-range locks under the work root unless SANDBOX_LOCK_DIR says otherwise", () => {
    const sandbox = loadConfig({}).sandbox;
    expect(sandboxLockDir(sandbox, "/dev/shm/w", false)).toBe("/run/cellblock");
    expect(sandboxLockDir(sandbox, "/dev/shm/w", true)).toBe("/dev/shm/w/.locks");
    const configured = loadConfig({ SANDBOX_LOCK_DIR: "/srv/locks" }).sandbox;
    expect(sandboxLockDir(configured, "/dev/shm/w", true)).toBe("/srv/locks");
  });

  it("defaults the work root by uid and validates SANDBOX_ID_MAP", () => {
    expect(loadConfig({}).worker.WORK_ROOT).toBe(
      isRoot ? "/dev/shm/cellblock-work" : `/dev/shm/cellblock-work-${process.getuid?.()}`,
    );
    expect(loadConfig({}).sandbox.SANDBOX_ID_MAP).toBe("subid");
    expect(loadConfig({ SANDBOX_ID_MAP: "single" }).sandbox.SANDBOX_ID_MAP).toBe("single");
    expect(() => loadConfig({ SANDBOX_ID_MAP: "range" })).toThrow(/SANDBOX_ID_MAP/);
  });
});

describe("who owns a slot's work files", () => {
  it("the slot's job uid as root; in single-id mode the worker's own files are left as they are", () => {
    expect(slotJobHostId(DEFAULT_UID_BASE, 3)).toBe(jobHostId(DEFAULT_UID_BASE, 3));
    useJobHostIds("single");
    expect(slotJobHostId(DEFAULT_UID_BASE, 3)).toBe(KEEP_OWNER);
    const dir = path.join(fresh("single"), "job");
    createWorkDir(dir, [{ path: "src/main.py", data: Buffer.from("print(1)\n") }], KEEP_OWNER);
    for (const p of [dir, path.join(dir, "src"), path.join(dir, "src/main.py")]) {
      expect(fs.statSync(p).uid).toBe(process.getuid?.());
      expect(fs.statSync(p).mode & 0o077).toBe(0);
    }
  });
});

/** Runs an ES module snippet in this checkout as nobody (uid 65534); its stdout. */
function asNobody(script: string, home: string): string {
  const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: path.resolve(import.meta.dirname, "../.."),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: home, HOME: home },
    uid: 65534,
    gid: 65534,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (out.status !== 0) throw new Error(`as nobody: exit ${out.status}: ${out.stderr}`);
  return out.stdout.trim();
}

describe.skipIf(!isRoot)("a worker that is not root", () => {
  it("runs without watching an images root it may not create (root's images CLI makes it)", () => {
    const home = fresh("nobody-img");
    fs.chmodSync(home, 0o777);
    const rootOwned = fresh("root-owned"); // 0700 root: nobody cannot create the images root in it
    const script = `
      const { loadConfig } = await import("./config/load-config.ts");
      const { LanguageImages } = await import("./worker/language-images.ts");
      const { default: pino } = await import("pino");
      const config = loadConfig({ CELLBLOCK_IMAGES: ${JSON.stringify(path.join(rootOwned, "images"))} });
      const images = new LanguageImages(config, async () => { throw new Error("no run here"); }, pino({ level: "silent" }));
      await images.watch(async () => {});
      await images.close();
      console.log("watch ok");`;
    expect(asNobody(script, home)).toBe("watch ok");
  }, 90_000);

  it("refuses subid mode by name, before it touches the host", () => {
    const home = fresh("nobody");
    fs.chmodSync(home, 0o777);
    const script = `
      const { loadConfig } = await import("./config/load-config.ts");
      const { openSandbox } = await import("./worker/sandbox-host.ts");
      try { await openSandbox(loadConfig({}).sandbox, 1, ${JSON.stringify(home)}); console.log("opened"); }
      catch (e) { console.log(e.message); }`;
    expect(asNobody(script, home)).toBe(ROOTLESS_SUBID_REFUSAL);
    expect(fs.readdirSync(home).filter((name) => name === ".locks")).toEqual([]);
  }, 90_000);
});
