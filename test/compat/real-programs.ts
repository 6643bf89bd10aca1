// Real programs as the oracle, next to CPython's tests: small programs that exercise what runtimes
// do normally (threads, processes, files, locks, timers, local sockets), run bare as an
// unprivileged user and in a sandbox with a writable work dir at /box; their output must match.
// Runtimes whose host install needs more of /etc than the host layout binds (Java reads
// /etc/java-17-openjdk) are checked in their images by images:verify instead.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_UID_BASE, jobHostId } from "../../contract/sandbox-identity.ts";
import { runSandbox } from "../../native/index.ts";
import { BARE_UID, COMPAT_LIMITS, COMPAT_SLOT } from "./cpython-tests.ts";

export interface RealProgram {
  name: string;
  /** Absolute path of the runtime it needs on the host (skipped when missing). */
  needs: string;
  files: Record<string, string>;
  /** Run one after another in the work dir; each must exit 0. The last one's stdout is compared. */
  steps: string[][];
}

const NODE_PROGRAM = `const fs = require("node:fs");
const cp = require("node:child_process");
const net = require("node:net");
const { Worker } = require("node:worker_threads");
fs.writeFileSync("a.txt", "x".repeat(1000));
fs.renameSync("a.txt", "b.txt");
const out = [\`fs \${fs.statSync("b.txt").size}\`];
out.push(\`child \${cp.execFileSync("/bin/sh", ["-c", "echo $((6 * 7))"]).toString().trim()}\`);
const w = new Worker("const { parentPort } = require('node:worker_threads'); let s = 0; for (let i = 0; i < 1e6; i++) s += i; parentPort.postMessage(s);", { eval: true });
w.on("message", (sum) => {
  out.push(\`worker \${sum}\`);
  const server = net.createServer((c) => c.end("pong")).listen("/tmp/s.sock", () => {
    net.connect("/tmp/s.sock").on("data", (d) => {
      out.push(\`unix socket \${d}\`);
      server.close();
      setTimeout(() => console.log(out.join("\\n")), 20);
    });
  });
});
`;

const CPP_PROGRAM = `#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>
int main() {
    std::mutex m;
    long total = 0;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&] { for (int i = 0; i < 100000; i++) { std::lock_guard<std::mutex> g(m); total++; } });
    for (auto &t : ts) t.join();
    std::filesystem::create_directories("d/e");
    std::ofstream("d/e/f.txt") << "hello";
    int fd = open("d/e/f.txt", O_RDWR);
    int locked = flock(fd, LOCK_EX | LOCK_NB) == 0 && lockf(fd, F_TLOCK, 0) == 0;
    std::cout << "threads " << total << "\\nfilesystem " << std::filesystem::file_size("d/e/f.txt")
              << "\\nlocks " << (locked ? "ok" : "refused") << "\\n";
}
`;

export const REAL_PROGRAMS: RealProgram[] = [
  {
    name: "node fs, child_process, worker_threads, unix socket",
    needs: "/usr/bin/node",
    files: { "main.js": NODE_PROGRAM },
    steps: [["/usr/bin/node", "main.js"]],
  },
  {
    name: "g++ threads, std::filesystem, flock/lockf",
    needs: "/usr/bin/g++",
    files: { "main.cpp": CPP_PROGRAM },
    steps: [["/usr/bin/g++", "-O1", "-pthread", "-o", "main", "main.cpp"], ["./main"]],
  },
  {
    name: "sqlite3 CLI with a file database",
    needs: "/usr/bin/sqlite3",
    files: { "init.sql": "create table t(a); insert into t values (1),(2),(3);\n" },
    steps: [
      ["/usr/bin/sqlite3", "db.sqlite", ".read init.sql"],
      ["/usr/bin/sqlite3", "db.sqlite", "select sum(a) from t;"],
    ],
  },
];

export interface ProgramOutcome {
  /** "exit 0" per step, or where it stopped. */
  ended: string;
  stdout: string;
}

const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", HOME: "/tmp" };

/** A work dir with the program's files, owned by uid (the bare user, or the slot's job uid). */
function workDir(program: RealProgram, uid: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellblock-compat-"));
  for (const [name, content] of Object.entries(program.files))
    fs.writeFileSync(path.join(dir, name), content);
  for (const entry of [".", ...Object.keys(program.files)]) fs.chownSync(path.join(dir, entry), uid, uid);
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function runProgramBare(program: RealProgram): ProgramOutcome {
  const uid = BARE_UID;
  const dir = workDir(program, uid);
  try {
    let stdout = "";
    for (const [file, ...args] of program.steps) {
      const r = spawnSync(file as string, args, {
        cwd: dir,
        env: { ...ENV, HOME: dir },
        uid,
        gid: uid,
        timeout: 120_000,
      });
      stdout = r.stdout.toString();
      if (r.status !== 0)
        return {
          ended: `${file} ${r.signal ?? `exit ${r.status}`}: ${r.stderr.toString().slice(-300)}`,
          stdout,
        };
    }
    return { ended: "exit 0", stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runProgramInSandbox(program: RealProgram): Promise<ProgramOutcome> {
  const dir = workDir(program, jobHostId(DEFAULT_UID_BASE, COMPAT_SLOT));
  try {
    let stdout = "";
    for (const argv of program.steps) {
      const report = await runSandbox({
        rootfs: { kind: "host" },
        binds: [{ source: dir, target: "/box", writable: true }],
        argv: argv[0]?.startsWith("./") ? [`/box/${argv[0].slice(2)}`, ...argv.slice(1)] : argv,
        env: ENV,
        cwd: "/box",
        stdin: Buffer.alloc(0),
        limits: COMPAT_LIMITS,
        slot: COMPAT_SLOT,
      });
      stdout = report.stdout.toString();
      if (report.status !== "ok") {
        const why = report.blockedSyscall
          ? `blocked ${report.blockedSyscall}`
          : (report.signal ?? `exit ${report.exitCode}`);
        return {
          ended: `${argv[0]} ${report.status} ${why}: ${report.stderr.toString().slice(-300)}`,
          stdout,
        };
      }
    }
    return { ended: "exit 0", stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
