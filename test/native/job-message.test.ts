// The job message (native/src/job-message.h) is read by cellblock-init's own parser
// (native/src/init-job.c), linked unchanged into a small harness here and built with ASan/UBSan:
// a well-formed message parses to exactly what was sent, and every short or malformed one fails
// closed (an error, never a partial argv). The in-container side (an ERROR record, no payload) is
// test/native/made-ahead.test.ts's.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../native/src");
const MAGIC = 0x314a4243;
const EINVAL = "error 22";
const E2BIG = "error 7";

let dir = "";
let harness = "";

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellblock-job-message-"));
  harness = path.join(dir, "harness");
  execFileSync("gcc", [
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-Wall",
    "-Wextra",
    "-Werror",
    `-I${SRC}`,
    "-o",
    harness,
    path.resolve(import.meta.dirname, "_job-message-harness.c"),
    path.join(SRC, "init-job.c"),
  ]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Job {
  uid: number;
  gid: number;
  argc?: number; // lie about the count
  envc?: number;
  rlimits: [number, bigint, bigint][];
  strings: string[]; // cwd, argv..., env... (each NUL-terminated by the encoder)
  argv: number;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function body(job: Job): Buffer {
  const parts = [
    u32(job.uid),
    u32(job.gid),
    u32(job.argc ?? job.argv),
    u32(job.envc ?? job.strings.length - 1 - job.argv),
    u32(job.rlimits.length),
  ];
  for (const [res, soft, hard] of job.rlimits) {
    const r = Buffer.alloc(24);
    r.writeUInt32LE(res, 0);
    r.writeBigUInt64LE(soft, 8);
    r.writeBigUInt64LE(hard, 16);
    parts.push(r);
  }
  for (const s of job.strings) parts.push(Buffer.from(`${s}\0`));
  return Buffer.concat(parts);
}

function message(b: Buffer, length = b.length, magic = MAGIC): Buffer {
  return Buffer.concat([u32(magic), u32(length), b]);
}

/** Parses each input as one arrival on go; one result line per input. */
function parseAll(inputs: Buffer[]): string[] {
  const stream = Buffer.concat(inputs.flatMap((input) => [u32(input.length), input]));
  return execFileSync(harness, { input: stream, encoding: "utf8" }).trimEnd().split("\n");
}

function parse(input: Buffer): string {
  return parseAll([input])[0] as string;
}

const GOOD: Job = {
  uid: 1000,
  gid: 1001,
  rlimits: [
    [7, 256n, 256n],
    [1, 0n, 18446744073709551615n],
  ],
  strings: ["/box", "/usr/bin/python3", "-c", "print(1)", "PATH=/usr/bin", "HOME=/tmp"],
  argv: 3,
};

describe("job message", () => {
  it("a well-formed message parses to exactly the ids, cwd, rlimits, argv and environment sent", () => {
    expect(parse(message(body(GOOD))).split(";")).toEqual([
      "uid 1000 gid 1001 cwd /box",
      "rlimit 7 256 256",
      "rlimit 1 0 18446744073709551615",
      "arg /usr/bin/python3",
      "arg -c",
      "arg print(1)",
      "env PATH=/usr/bin",
      "env HOME=/tmp",
    ]);
  });

  it("every truncation of a message, header or body, fails closed", () => {
    const whole = message(body(GOOD));
    const cuts = Array.from({ length: whole.length }, (_, cut) => whole.subarray(0, cut));
    for (const [cut, out] of parseAll(cuts).entries()) expect(out, `cut at ${cut}`).toMatch(/^error /);
  });

  it("a header claiming less than the body, or a body cut short inside, fails closed", () => {
    const b = body(GOOD);
    const short = Array.from({ length: b.length }, (_, len) => message(b.subarray(0, len), len));
    for (const [len, out] of parseAll(short).entries()) expect(out, `length ${len}`).toMatch(/^error /);
  });

  it("trailing bytes after the last string are refused", () => {
    const b = Buffer.concat([body(GOOD), Buffer.from("x\0")]);
    expect(parse(message(b))).toBe(EINVAL);
  });

  it("counts that do not match the strings are refused both ways", () => {
    expect(parse(message(body({ ...GOOD, argc: 4 })))).toBe(EINVAL); // env one short: runs off the end
    expect(parse(message(body({ ...GOOD, envc: 1 })))).toBe(EINVAL); // one string left over
    expect(parse(message(body({ ...GOOD, argc: 0, envc: 5 })))).toBe(EINVAL); // no program
  });

  it("counts and lengths over the bounds are refused before anything is read", () => {
    expect(parse(message(body({ ...GOOD, argc: 0xffffffff })))).toBe(E2BIG);
    expect(parse(message(body({ ...GOOD, envc: 0x10000 + 1 })))).toBe(E2BIG);
    const many: Job = { ...GOOD, rlimits: Array.from({ length: 17 }, () => [7, 1n, 1n]) };
    expect(parse(message(body(many)))).toBe(E2BIG);
    expect(parse(message(body(GOOD), 1024 * 1024 + 1))).toBe(E2BIG);
  });

  it("a wrong magic, a relative cwd, an empty program or a nonzero rlimit pad are refused", () => {
    expect(parse(message(body(GOOD), undefined, MAGIC + 1))).toBe(EINVAL);
    expect(parse(message(body({ ...GOOD, strings: ["box", ...GOOD.strings.slice(1)] })))).toBe(EINVAL);
    expect(parse(message(body({ ...GOOD, strings: ["/box", "", ...GOOD.strings.slice(2)] })))).toBe(EINVAL);
    const padded = body(GOOD);
    padded.writeUInt32LE(1, 20 + 4); // the first rlimit's pad
    expect(parse(message(padded))).toBe(EINVAL);
  });

  it("an unterminated last string is refused, not read past", () => {
    const b = body(GOOD);
    expect(parse(message(b.subarray(0, b.length - 1)))).toBe(EINVAL);
  });
});
