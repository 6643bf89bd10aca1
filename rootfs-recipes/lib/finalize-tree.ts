import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { JOB_GID, JOB_UID } from "../../contract/sandbox-identity.ts";
import { runCommand } from "./run-command.ts";

// Turns an installed chroot into an image jobs may see: no build leftovers, nothing a job could
// use to gain privileges, nothing it could write. The sandbox binds the tree read-only and maps
// the job's uid 1000 to an unprivileged host uid; these steps make the tree safe even where that
// bind were writable or a runtime looked up its own user.

/** Runs the recipe's drop globs inside the chroot, so absolute symlinks resolve within the image, never on the host. */
export async function dropPaths(rootfs: string, globs: string[]): Promise<void> {
  if (globs.length === 0) return;
  const script = [
    "shopt -s nullglob globstar dotglob extglob",
    "IFS=$'\\n'",
    "cd /",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a JS template
    'for pattern in "$@"; do for match in ${pattern#/}; do rm -rf -- "$match"; done; done',
  ].join("\n");
  await runCommand(["chroot", rootfs, "/bin/bash", "-c", script, "drop", ...globs]);
}

const PASSWD = [
  "root:x:0:0:root:/root:/usr/sbin/nologin",
  // Jobs run as JOB_UID; runtimes that call getpwuid() (JVM, mono, R) need an entry with a home.
  `runner:x:${JOB_UID}:${JOB_GID}:runner:/tmp:/bin/sh`,
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
];
const GROUP = ["root:x:0:", `runner:x:${JOB_GID}:`, "nogroup:x:65534:"];
export const HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/** Everything after installation: mount points, users, ownership, permission bits. */
export async function finalizeTree(rootfs: string): Promise<void> {
  // debootstrap created device nodes in /dev; the sandbox mounts its own minimal /dev there.
  await rm(path.join(rootfs, "dev"), { recursive: true, force: true });
  await runCommand([
    "find",
    rootfs,
    "-xdev",
    "(",
    "-type",
    "b",
    "-o",
    "-type",
    "c",
    "-o",
    "-type",
    "p",
    "-o",
    "-type",
    "s",
    ")",
    "-delete",
  ]);
  for (const mountPoint of ["proc", "dev", "tmp", "box"]) {
    await rm(path.join(rootfs, mountPoint), { recursive: true, force: true });
    await mkdir(path.join(rootfs, mountPoint), { mode: 0o755 });
  }
  await writeFile(path.join(rootfs, "etc/passwd"), `${PASSWD.join("\n")}\n`);
  await writeFile(path.join(rootfs, "etc/group"), `${GROUP.join("\n")}\n`);
  await rm(path.join(rootfs, "etc/shadow"), { force: true });
  await rm(path.join(rootfs, "etc/gshadow"), { force: true });
  // Jobs have no network; a copied host resolver config would only leak host details.
  await writeFile(path.join(rootfs, "etc/resolv.conf"), "");
  await writeFile(path.join(rootfs, "etc/hostname"), "cellblock\n");
  // debootstrap's minbase writes no /etc/hosts, so "localhost" did not resolve in an image (glibc
  // fell through to DNS: EAI_AGAIN) while it does on the host layout, whose /etc/hosts the sandbox
  // writes. Same content as there (native/src/mount-plan.cc, kHosts): loopback names only.
  await writeFile(path.join(rootfs, "etc/hosts"), HOSTS);
  // -h: change symlinks themselves; chown/chmod -R never follow symlinks found while walking.
  await runCommand(["chown", "-hR", "0:0", rootfs]);
  // No setuid/setgid anywhere: the sandbox sets no_new_privs, but an image copied elsewhere must not carry them.
  await runCommand(["chmod", "-R", "ug-s,go-w", rootfs]);
  await chmod(rootfs, 0o755);
}
