// The one real image test: the python recipe builds with debootstrap + apt from this machine's
// mirror (or is found already built under the images root, keyed by its recipe hash), and a
// python job runs in it through the sandbox. The first build takes minutes; later runs reuse the
// base cache and the image itself.
import { existsSync } from "node:fs";
import { chown, lstat, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jobHostId } from "../../contract/sandbox-identity.ts";
import { buildImage } from "../../rootfs-recipes/lib/build-image.ts";
import { mountsUnder } from "../../rootfs-recipes/lib/chroot-mounts.ts";
import { rootfsOf } from "../../rootfs-recipes/lib/image-paths.ts";
import { loadRecipe } from "../../rootfs-recipes/lib/load-recipe.ts";
import { imagesRoot, verifySettings } from "../helpers/images.ts";

const addon = path.resolve(import.meta.dirname, "../../native/build/Release/cellblock.node");
const missing = [
  process.getuid?.() !== 0 && "root",
  !existsSync("/usr/sbin/debootstrap") && "debootstrap (apt-get install debootstrap)",
  !existsSync(addon) && "the sandbox addon (node scripts/build-native.mjs)",
].filter(Boolean);

const LIMITS = {
  cpuTimeMs: 5_000,
  wallTimeMs: 10_000,
  memoryBytes: 256 * 2 ** 20,
  pids: 16,
  outputBytes: 65_536,
  fileSizeBytes: 2 ** 20,
  openFiles: 64,
  stackBytes: 8 * 2 ** 20,
  tmpfsBytes: 16 * 2 ** 20,
  cpuQuotaPercent: 0,
};

/** Runs `python3 -c code` in the image at `dir`, no binds, cwd /tmp. */
async function runPython(dir: string, code: string) {
  const { runSandbox } = await import("../../native/index.ts");
  return runSandbox({
    rootfs: { kind: "image", path: rootfsOf(dir) },
    binds: [],
    argv: ["/usr/bin/python3", "-c", code],
    env: { PATH: "/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" },
    cwd: "/tmp",
    stdin: Buffer.alloc(0),
    limits: LIMITS,
    slot: verifySettings.slot,
  });
}

describe.skipIf(missing.length > 0)(
  `the python image (needs ${missing.join(", ") || "root, debootstrap, the addon"})`,
  () => {
    it("builds from its recipe (or reuses it by hash) and runs a python job through the sandbox", {
      timeout: 20 * 60_000,
    }, async () => {
      const root = imagesRoot;
      const { dir, manifest } = await buildImage(await loadRecipe("python"), root, verifySettings);
      expect(manifest.verification?.ok).toBe(true);
      expect(manifest.verification?.checks.map((c) => c.language)).toEqual(["python", "pypy"]);
      expect(manifest.packages.some((p) => p.name === "python3")).toBe(true);

      const { runSandbox, sandboxHostInfo } = await import("../../native/index.ts");
      const work = await mkdtemp(path.join(os.tmpdir(), "cellblock-python-image-"));
      try {
        const uid = jobHostId(sandboxHostInfo().config.uidBase, verifySettings.slot);
        await chown(work, uid, uid);
        const program =
          "import sys, platform\nprint(platform.python_version(), sum(int(x) for x in sys.stdin.read().split()))\n";
        await writeFile(path.join(work, "main.py"), program);
        const report = await runSandbox({
          rootfs: { kind: "image", path: rootfsOf(dir) },
          binds: [{ source: work, target: "/box", writable: true }],
          argv: ["/usr/bin/python3", "-B", "main.py"],
          env: { PATH: "/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" },
          cwd: "/box",
          stdin: Buffer.from("40 2\n"),
          limits: LIMITS,
          slot: verifySettings.slot,
        });
        expect(report.stderr.toString(), report.status).toBe("");
        expect(report.status).toBe("ok");
        const pythonVersion = manifest.verification?.checks[0]?.version.replace("Python ", "");
        expect(report.stdout.toString()).toBe(`${pythonVersion} 42\n`);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
      // Scoped to this process: other builds may be running on the same images root.
      const ours = (name: string) => name.includes(`-${process.pid}/`) || name.endsWith(`-${process.pid}`);
      expect((await mountsUnder(root)).filter(ours)).toEqual([]);
      expect(
        (await readdir(root)).filter((n) => n.startsWith(".tmp-") && n.endsWith(`-${process.pid}`)),
      ).toEqual([]);
    });

    it("the built image is root-owned, with no setuid/setgid or world-writable entries and empty mount points", async () => {
      const { dir } = await buildImage(await loadRecipe("python"), imagesRoot, verifySettings);
      const rootfs = rootfsOf(dir);
      const problems: string[] = [];
      const walk = async (rel: string) => {
        for (const entry of await readdir(path.join(rootfs, rel), { withFileTypes: true })) {
          const relPath = path.join(rel, entry.name);
          const stat = await lstat(path.join(rootfs, relPath));
          if (stat.uid !== 0 || stat.gid !== 0) problems.push(`${relPath}: owner ${stat.uid}:${stat.gid}`);
          if (!entry.isSymbolicLink() && stat.mode & 0o6002)
            problems.push(`${relPath}: mode ${stat.mode.toString(8)}`);
          if (!entry.isDirectory() && !entry.isFile() && !entry.isSymbolicLink())
            problems.push(`${relPath}: special`);
          if (entry.isDirectory()) await walk(relPath);
        }
      };
      await walk("");
      expect(problems.slice(0, 10)).toEqual([]);
      for (const mountPoint of ["proc", "dev", "tmp", "box"]) {
        expect(await readdir(path.join(rootfs, mountPoint))).toEqual([]);
      }
      expect(await readFile(path.join(rootfs, "etc/passwd"), "utf8")).toMatch(/^runner:x:1000:1000:/m);
      expect(existsSync(path.join(rootfs, "usr/share/man"))).toBe(false);
    });

    it("localhost resolves in the image as on the host layout (the image has an /etc/hosts)", async () => {
      const { dir } = await buildImage(await loadRecipe("python"), imagesRoot, verifySettings);
      const report = await runPython(
        dir,
        "import socket; print('127.0.0.1' in {a[4][0] for a in socket.getaddrinfo('localhost', 80)})",
      );
      expect(report.stdout.toString(), report.stderr.toString()).toBe("True\n");
    });

    it("a file the image shares with the store keeps its access time when a job reads it (read-only mount)", async () => {
      const { dir } = await buildImage(await loadRecipe("python"), imagesRoot, verifySettings);
      const shared = path.join(rootfsOf(dir), "usr/lib/os-release");
      const before = await lstat(shared);
      // Linked into the content-addressed store (shared-files.ts): the image and the store at least.
      expect(before.nlink).toBeGreaterThanOrEqual(2);
      const old = new Date("2001-09-09T01:46:40Z");
      try {
        // Control: on the host's writable mount a read moves an atime older than the mtime (relatime).
        await utimes(shared, old, before.mtime);
        await readFile(shared);
        expect((await lstat(shared)).atimeMs).toBeGreaterThan(old.getTime());
        await utimes(shared, old, before.mtime);
        const report = await runPython(
          dir,
          "import os; print(len(open('/usr/lib/os-release').read()) > 0, os.stat('/usr/lib/os-release').st_nlink > 1)",
        );
        expect(report.stdout.toString(), report.stderr.toString()).toBe("True True\n");
        // A job cannot learn through atime whether another job (of any image) read a shared file.
        expect((await lstat(shared)).atimeMs).toBe(old.getTime());
      } finally {
        await utimes(shared, before.atime, before.mtime);
      }
    });
  },
);
