// The policy must not break ordinary programs: Python with threads and subprocesses, C with
// pthreads, fork and pipes, g++ compiling into a writable bind, Node with worker_threads, bash
// pipelines.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  describe as describeReport,
  EMULATION_SLOWDOWN,
  fixture,
  MiB,
  makeBindDir,
  run,
} from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

// A g++ -O2 compile of iostream and thread takes ~10 s of CPU under test:v2's emulation on a
// quiet host and more than twice that on a loaded one: the runtimes' limits are scaled there.
const RUNTIME_LIMITS = {
  memoryBytes: 512 * MiB,
  cpuTimeMs: 30_000 * EMULATION_SLOWDOWN,
  wallTimeMs: 60_000 * EMULATION_SLOWDOWN,
  pids: 64,
};

describe("runtimes run normally", () => {
  it("a multi-threaded Python program with a subprocess", async () => {
    const report = await run(["/usr/bin/python3", fixture("threads.py")], { limits: RUNTIME_LIMITS });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("total=31996000 child\n");
  });

  it("a C program with pthreads, fork and pipes", async () => {
    const report = await run([fixture("threads-fork-pipes")]);
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("sum=499999500000 child=0\n");
  });

  it(
    "g++ compiles a file into a writable bind and the result runs in a second sandbox",
    async () => {
      const box = makeBindDir();
      fs.writeFileSync(
        path.join(box, "hello.cpp"),
        '#include <iostream>\n#include <thread>\nint main() { std::thread t([] { std::cout << "hello from c++" << std::endl; }); t.join(); }\n',
      );
      const binds = [{ source: box, target: "/box", writable: true }];
      const compile = await run(["/usr/bin/g++", "-O2", "-pthread", "-o", "/box/hello", "/box/hello.cpp"], {
        binds,
        cwd: "/box",
        limits: RUNTIME_LIMITS,
      });
      expect(compile.status, describeReport(compile)).toBe("ok");
      const hello = await run(["/box/hello"], { binds, cwd: "/box" });
      expect(hello.status, describeReport(hello)).toBe("ok");
      expect(hello.stdout.toString()).toBe("hello from c++\n");
    },
    120_000 * EMULATION_SLOWDOWN,
  );

  it("node runs a script that uses worker_threads", async () => {
    const report = await run(["/usr/bin/node", fixture("worker-threads.mjs")], { limits: RUNTIME_LIMITS });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("total=1999000\n");
  });

  it("bash runs pipelines, command substitution and background jobs", async () => {
    const script =
      "set -e\nx=$(echo a | tr a b)\nfor i in 1 2 3; do echo $i; done | wc -l\n(sleep 0.1; echo bg) &\nwait\necho $x";
    const report = await run(["/bin/bash", "-c", script]);
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("3\nbg\nb\n");
  });

  it("1 MiB of stdin echoed back through cat arrives whole (no pipe deadlock)", async () => {
    const input = Buffer.alloc(MiB);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 10)) & 0xff;
    const report = await run(["/usr/bin/cat"], { stdin: input, limits: { outputBytes: 2 * MiB } });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.equals(input)).toBe(true);
  });

  it("a program that never reads its 10 MiB of stdin exits normally (the supervisor does not block)", async () => {
    const report = await run(["/bin/true"], { stdin: Buffer.alloc(10 * MiB, 0x61) });
    expect(report.status, describeReport(report)).toBe("ok");
  });

  it("a program that reads only the start of its stdin gets exactly that", async () => {
    const report = await run(["/usr/bin/head", "-c", "10", "/dev/stdin"], {
      stdin: Buffer.alloc(10 * MiB, 0x61),
    });
    expect(report.status, describeReport(report)).toBe("ok");
    expect(report.stdout.toString()).toBe("aaaaaaaaaa");
  });

  it("stdin reaches the program byte for byte", async () => {
    const input = Buffer.from([0, 1, 2, 255, 10, 65]);
    const report = await run(["/usr/bin/od", "-An", "-tu1"], { stdin: input });
    expect(report.stdout.toString().trim().split(/\s+/), describeReport(report)).toEqual([
      "0",
      "1",
      "2",
      "255",
      "10",
      "65",
    ]);
  });
});
