// File I/O through the whole service (real queue, worker and sandbox): USACO-style input.txt /
// output.txt, files a notebook run writes and asks back, and what a hostile program can do with
// them — symlinks to host paths, FIFOs, 10,000 files, huge files — contained.
import { crc32, inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { sandboxUnavailableReason } from "../helpers/sandbox.ts";
import { runJob, startTestService, type TestService } from "../helpers/service.ts";
import { workRootLeftovers } from "../helpers/work-root.ts";

const unavailable = await sandboxUnavailableReason();
if (unavailable) console.warn(`SKIPPED file I/O tests: ${unavailable}`);

let redis: TestRedis;
let service: TestService;

interface OutputFile {
  path: string;
  type: string;
  sizeBytes: number;
  encoding: string;
  content: string;
  truncated: boolean;
}

const python = (lines: string[]) => ({ language: "python", source: lines.join("\n") });
const byPath = (files: OutputFile[]) => Object.fromEntries(files.map((file) => [file.path, file]));

describe.skipIf(unavailable !== null)(`file I/O ${unavailable ? `(${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    service = await startTestService({ redisUrl: redis.url, worker: true });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it("a USACO-style C program reads input.txt and writes output.txt, which is judged instead of stdout", async () => {
    const source = [
      "#include <stdio.h>",
      "int main(void) {",
      '  FILE *in = fopen("input.txt", "r"), *out = fopen("output.txt", "w");',
      '  long a, b; if (!in || !out || fscanf(in, "%ld %ld", &a, &b) != 2) return 1;',
      "  if (a == 0) return 0; /* writes nothing: no answer */",
      '  fprintf(out, "%ld\\n", a + b); puts("stdout is not judged");',
      '  return fopen("input.txt", "w") == NULL ? 0 : 2; /* the input is read-only */',
      "}",
    ].join("\n");
    const result = await runJob(service, {
      language: "c",
      source,
      compareFile: "output.txt",
      tests: [
        { files: [{ path: "input.txt", content: "1 2\n" }], expectedOutput: "3\n" },
        { files: [{ path: "input.txt", content: "2 2\n" }], expectedOutput: "5\n" },
        { files: [{ path: "input.txt", content: "0 0\n" }], expectedOutput: "0\n" },
      ],
    });
    expect(result.runs.map((run: { verdict: string }) => run.verdict)).toEqual([
      "accepted",
      "wrong_answer",
      "wrong_answer",
    ]);
    expect(result.runs[0].exitCode).toBe(0);
    expect(result.runs[0].stdout).toBe("stdout is not judged\n");
  });

  it("a notebook run writes a PNG (checked byte by byte) and a CSV, returned by glob", async () => {
    const result = await runJob(service, {
      ...python([
        "import struct, zlib",
        "w, h = 4, 3",
        "raw = b''.join(b'\\x00' + b''.join(bytes((x * 60, y * 100, 200)) for x in range(w)) for y in range(h))",
        "def chunk(kind, data):",
        "    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))",
        "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))",
        "png += chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')",
        "open('plot.png', 'wb').write(png)",
        "open('table.csv', 'w').write('x,y\\n1,2\\n3,4\\n')",
        "open('notes.txt', 'w').write('not asked for')",
      ]),
      outputFiles: ["*.png", "*.csv"],
    });
    expect(result.verdict).toBe("ok");
    const files = byPath(result.runs[0].outputFiles.files);
    expect(Object.keys(files)).toEqual(["plot.png", "table.csv"]);
    expect(files["table.csv"]).toMatchObject({ encoding: "utf8", content: "x,y\n1,2\n3,4\n", sizeBytes: 12 });
    const png = Buffer.from(files["plot.png"]?.content ?? "", "base64");
    expect(files["plot.png"]).toMatchObject({ type: "file", encoding: "base64", truncated: false });
    expect(png.length).toBe(files["plot.png"]?.sizeBytes);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks: Record<string, Buffer> = {};
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const kind = png.subarray(at + 4, at + 8);
      const data = png.subarray(at + 8, at + 8 + length);
      expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(Buffer.concat([kind, data])));
      chunks[kind.toString("latin1")] = data;
      at += 12 + length;
    }
    expect(Object.keys(chunks)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect([chunks.IHDR?.readUInt32BE(0), chunks.IHDR?.readUInt32BE(4)]).toEqual([4, 3]);
    const pixels = inflateSync(chunks.IDAT as Buffer);
    const expected = [0, 1, 2].flatMap((y) => [0, ...[0, 1, 2, 3].flatMap((x) => [x * 60, y * 100, 200])]);
    expect([...pixels]).toEqual(expected);
  });

  it("symlinks to host paths are listed, never followed: not as files, not as dirs, not as the judged file", async () => {
    const result = await runJob(service, {
      ...python([
        "import os",
        "os.symlink('/etc/passwd', 'output.txt')",
        "os.symlink('/etc', 'etc')",
        "os.symlink('/proc/self/root/etc/hostname', 'host.txt')",
        "print('done')",
      ]),
      compareFile: "output.txt",
      outputFiles: ["*.txt", "etc", "etc/*", "output.txt"],
      tests: [{ expectedOutput: "root:x:0:0:root:/root:/bin/bash\n" }],
    });
    expect(result.runs[0].verdict).toBe("wrong_answer");
    const files: OutputFile[] = result.runs[0].outputFiles.files;
    expect(files.map((file) => [file.path, file.type, file.content])).toEqual([
      ["etc", "symlink", ""],
      ["host.txt", "symlink", ""],
      ["output.txt", "symlink", ""],
    ]);
  });

  it("a FIFO never blocks the worker, as an asked-for file or as the judged file", async () => {
    const result = await runJob(service, {
      ...python(["import os", "os.mkfifo('output.txt')", "os.mkfifo('pipe.csv')"]),
      compareFile: "output.txt",
      outputFiles: ["*.txt", "*.csv"],
      tests: [{ expectedOutput: "" }],
    });
    expect(result.runs[0].verdict).toBe("wrong_answer");
    expect(result.runs[0].outputFiles.files.map((file: OutputFile) => file.type)).toEqual(["other", "other"]);
  });

  it("a glob matching 10,000 files lists the first 100 and says it stopped", async () => {
    const result = await runJob(service, {
      ...python([
        "import os",
        "os.mkdir('many')",
        "for i in range(10000): open(f'many/{i:05}.txt', 'w').write(str(i))",
      ]),
      outputFiles: ["many/*.txt"],
      // The whole test takes ~0.8 s on a quiet host, but the 10,000 creates passed the 2 s CPU
      // default on a loaded CI machine (time_limit): the test is about the glob's cut, so its
      // limits are the ceilings.
      limits: { cpuTimeMs: 10_000, wallTimeMs: 20_000 },
    });
    expect(result.verdict).toBe("ok");
    const { files, truncated } = result.runs[0].outputFiles;
    expect(truncated).toBe(true);
    expect(files).toHaveLength(100);
    expect(files[0]).toMatchObject({ path: "many/00000.txt", content: "0" });
  });

  it("each file is cut at 1 MiB and all of them at 4 MiB, with sizes and flags", async () => {
    const result = await runJob(service, {
      ...python(["for i in range(6): open(f'big{i}.txt', 'w').write('x' * (3 << 19))"]),
      outputFiles: ["big*.txt"],
    });
    const files: OutputFile[] = result.runs[0].outputFiles.files;
    expect(files.map((file) => file.content.length)).toEqual([1 << 20, 1 << 20, 1 << 20, 1 << 20, 0, 0]);
    for (const file of files) expect(file).toMatchObject({ sizeBytes: 3 << 19, truncated: true });
  });

  it("a job's runs together carry at most 8 MiB of file contents", async () => {
    const result = await runJob(service, {
      ...python(["for i in range(4): open(f'big{i}.txt', 'w').write('y' * (1 << 20))"]),
      outputFiles: ["big*.txt"],
      tests: [1, 2, 3].map(() => ({ expectedOutput: "" })),
    });
    const carried = result.runs.map((run: { outputFiles: { files: OutputFile[] } }) =>
      run.outputFiles.files.reduce((sum, file) => sum + file.content.length, 0),
    );
    expect(carried).toEqual([4 << 20, 4 << 20, 0]);
  });

  it("patterns reaching outside the work dir are refused, naming the field", async () => {
    for (const pattern of ["../x", "/etc/passwd", "a/../../b"]) {
      const response = await service.post("/run", { ...python(["pass"]), outputFiles: ["ok.txt", pattern] });
      expect(response.status, pattern).toBe(400);
      expect((await response.json()).error.details[0].field).toBe("outputFiles.1");
    }
  });

  it("no run dir or work dir is left behind", async () => {
    expect(await workRootLeftovers(service)).toEqual([]);
  });
});
