// Locks that work without a channel between jobs (issue 10): cellblock-init performs flock and
// fcntl record locks on the job's own files (/tmp, /dev/shm, the work dir) and answers ENOLCK on
// anything concurrent jobs share (init-locks.c). Regression: sqlite3 could not write a file
// database ("access permission denied") because every record lock was refused.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { describe as describeReport, makeBindDir, run } from "./_fixtures.ts";
import { kernelAtLeast } from "./_kernel.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

async function python(
  script: string,
  cwd = "/tmp",
  binds: { source: string; target: string; writable: boolean }[] = [],
) {
  const report = await run(["/usr/bin/python3", "-c", script], { cwd, binds });
  expect(report.status, describeReport(report)).toBe("ok");
  return report.stdout.toString();
}

const SQLITE = (file: string) =>
  `import sqlite3
c = sqlite3.connect(${JSON.stringify(file)})
c.execute("create table t (a)")
c.executemany("insert into t values (?)", [(i,) for i in range(100)])
c.commit()
d = sqlite3.connect(${JSON.stringify(file)})
print(d.execute("select count(*) from t").fetchone()[0])`;

describe("file locks in a job", () => {
  it("sqlite3 writes and reads a file database in /tmp", async () => {
    expect(await python(SQLITE("/tmp/x.db"))).toBe("100\n");
  });

  it("sqlite3 writes and reads a file database in the work dir", async () => {
    const dir = makeBindDir();
    const out = await python(SQLITE("/box/x.db"), "/box", [{ source: dir, target: "/box", writable: true }]);
    expect(out).toBe("100\n");
    expect(fs.existsSync(`${dir}/x.db`)).toBe(true);
  });

  it("flock, lockf and fcntl record locks on the job's own file exclude a second open of it", async () => {
    const script = `import errno, fcntl, struct
a = open("/dev/shm/lock", "w"); b = open("/dev/shm/lock", "w")
out = []
for take, name in ((lambda f, nb: fcntl.flock(f, fcntl.LOCK_EX | nb), "flock"),
                   (lambda f, nb: fcntl.lockf(f, fcntl.LOCK_EX | nb), "lockf")):
    take(a, 0)
    try:
        take(b, fcntl.LOCK_NB); out.append(name + " not exclusive")
    except OSError as e:
        out.append(name + " " + errno.errorcode[e.errno])
    (fcntl.flock if name == "flock" else fcntl.lockf)(a, fcntl.LOCK_UN)
    take(b, fcntl.LOCK_NB); out.append(name + " free after unlock")
    (fcntl.flock if name == "flock" else fcntl.lockf)(b, fcntl.LOCK_UN)
print(", ".join(out))`;
    expect(await python(script)).toBe(
      "flock EAGAIN, flock free after unlock, lockf EAGAIN, lockf free after unlock\n",
    );
  });

  it("a blocking lock waits for the holder to let go, then succeeds", async () => {
    const script = `import fcntl, os, time
f = open("/tmp/l", "w"); fcntl.lockf(f, fcntl.LOCK_EX)
pid = os.fork()
if pid == 0:
    f.close(); g = open("/tmp/l", "w"); t = time.time()
    fcntl.lockf(g, fcntl.LOCK_EX)
    print("waited" if time.time() - t >= 0.2 else "did not wait", flush=True); os._exit(0)
time.sleep(0.3); f.close(); os.waitpid(pid, 0)`;
    expect(await python(script)).toBe("waited\n");
  });

  // The init finds a thread's process through a pidfd of the thread (PIDFD_THREAD, Linux 6.9); on
  // older kernels a lock from another thread is refused with ENOLCK (documented in ARCHITECTURE).
  it("a lock taken from a thread other than the main one works (the broker finds the thread's process)", async () => {
    const script = `import errno, fcntl, threading
def lock():
    f = open("/tmp/t", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX); fcntl.lockf(f, fcntl.LOCK_EX); print("ok")
    except OSError as e:
        print(errno.errorcode[e.errno])
t = threading.Thread(target=lock); t.start(); t.join()`;
    expect(await python(script)).toBe(kernelAtLeast(6, 9) ? "ok\n" : "ENOLCK\n");
  });

  it("refuses locks on files concurrent jobs share (the read-only /usr, /dev/null) with ENOLCK", async () => {
    const script = `import errno, fcntl
for path, mode in (("/usr/bin/env", "r"), ("/dev/null", "w"), ("/etc/passwd", "r")):
    for name, take in (("flock", lambda f: fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)),
                       ("lockf", lambda f: fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB))):
        try:
            take(open(path, mode)); print(path, name, "ok")
        except OSError as e:
            print(path, name, errno.errorcode[e.errno])`;
    const lines = (await python(script)).trim().split("\n");
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/ (ENOLCK|EBADF)$/);
  });

  it("answers an fcntl command newer than the policy with EINVAL instead of killing", async () => {
    const script = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/tmp", os.O_RDONLY)
print(libc.fcntl(fd, 1099, 0), os.strerror(ctypes.get_errno()))`;
    expect(await python(script)).toBe("-1 Invalid argument\n");
  });
});
