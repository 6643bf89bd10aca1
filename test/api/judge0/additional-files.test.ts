import { describe, expect, it } from "vitest";
import { ArchiveError, extractAdditionalFiles } from "../../../api/judge0/additional-files.ts";
import { writeZip } from "../../helpers/zip-writer.ts";

// Judge0's additional_files zips are hostile input: every way out of the work dir, every
// non-regular file and every size trick is refused with a reason, and a good archive arrives whole.

const refusal = async (zip: Buffer) => {
  const error = await extractAdditionalFiles(zip).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  return (error as Error).message;
};

describe("additional_files extraction", () => {
  it("a plain archive with folders arrives as base64 job files, directories implied", async () => {
    const files = await extractAdditionalFiles(
      writeZip([
        { name: "lib/", mode: 0o040755 },
        { name: "lib/helper.py", data: "X = 1\n", deflate: true },
        { name: "data.txt", data: "abc" },
      ]),
    );
    expect(files).toEqual([
      { path: "lib/helper.py", content: Buffer.from("X = 1\n").toString("base64"), encoding: "base64" },
      { path: "data.txt", content: Buffer.from("abc").toString("base64"), encoding: "base64" },
    ]);
  });

  it("zip slip: .. segments, absolute paths and backslashes are refused", async () => {
    expect(await refusal(writeZip([{ name: "../evil.sh", data: "x" }]))).toMatch(/relative path|\.\./);
    expect(await refusal(writeZip([{ name: "ok/../../evil.sh", data: "x" }]))).toMatch(/relative path|\.\./);
    expect(await refusal(writeZip([{ name: "/etc/passwd", data: "x" }]))).toMatch(/absolute path/);
    expect(await refusal(writeZip([{ name: "..\\evil.sh", data: "x" }]))).toMatch(
      /invalid|backslash|plain segments/,
    );
    expect(await refusal(writeZip([{ name: ".hidden", data: "x" }]))).toMatch(/plain segments/);
  });

  it("symlinks and special files are refused", async () => {
    expect(await refusal(writeZip([{ name: "link", data: "/etc/passwd", mode: 0o120777 }]))).toMatch(
      /only regular files/,
    );
    expect(await refusal(writeZip([{ name: "fifo", mode: 0o010644 }]))).toMatch(/only regular files/);
  });

  it("a zip bomb is refused by its ratio, and a header lying about its size by yauzl", async () => {
    const zeros = Buffer.alloc(4 * 1024 * 1024);
    expect(await refusal(writeZip([{ name: "bomb.bin", data: zeros, deflate: true }]))).toMatch(/ratio/);
    const lying = writeZip([{ name: "small.txt", data: "a".repeat(5000), deflate: true, claimedSize: 10 }]);
    expect(await refusal(lying)).toMatch(/small\.txt|size/);
  });

  it("too many entries, too many files and too many bytes are refused", async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ name: `f${i}.txt`, data: "x" }));
    expect(await refusal(writeZip(many))).toMatch(/300 entries/);
    expect(await refusal(writeZip(many.slice(0, 64)))).toMatch(/more than 63 files/);
    const big = Buffer.alloc(1024 * 1024, 7);
    const parts = [0, 1, 2].map((i) => ({ name: `big${i}.bin`, data: big }));
    expect(await refusal(writeZip(parts))).toMatch(/more than 2097152 bytes/);
  });

  it("duplicate names and garbage are refused", async () => {
    expect(await refusal(writeZip([{ name: "a.txt" }, { name: "a.txt" }]))).toMatch(/twice/);
    expect(await refusal(Buffer.from("not a zip at all"))).toMatch(/not a readable zip/);
  });
});
