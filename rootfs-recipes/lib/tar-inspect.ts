import { open } from "node:fs/promises";

// Checks an image tarball before a single byte of it is extracted. GNU tar already refuses some
// tricks, but an image tarball comes from another machine, so the rules are ours and explicit:
// every header's checksum is valid (a damaged file is caught here, not half-way through tar -x);
// names are relative, without "..", and under manifest.json or rootfs/; no entry passes through
// an earlier symlink (a symlink to /etc followed by rootfs/link/passwd would write on the host);
// no device nodes, fifos, or setuid/setgid bits.

const BLOCK = 512;

export interface TarEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink";
  mode: number;
  size: number;
  linkTarget: string;
}

function cString(block: Buffer, start: number, length: number): string {
  const slice = block.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(block: Buffer, start: number, length: number): number {
  // GNU base-256 encoding for sizes over 8 GiB: high bit set, big-endian binary.
  if ((block[start] ?? 0) & 0x80) {
    let value = (block[start] ?? 0) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (block[start + i] ?? 0);
    return value;
  }
  const text = cString(block, start, length).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === octal(block, 148, 8);
}

function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let text = data.toString("utf8");
  while (text.length > 0) {
    const match = /^(\d+) ([^=]+)=/.exec(text);
    if (!match?.[1] || !match[2]) break;
    const length = Number(match[1]);
    records.set(match[2], text.slice(match[0].length, length - 1));
    text = text.slice(length);
  }
  return records;
}

function normalize(name: string): string {
  return name.replace(/^\.\//, "").replace(/\/+$/, "");
}

function checkPath(name: string, what: string): void {
  if (name.startsWith("/")) throw new Error(`${what} "${name}" is an absolute path`);
  if (name.split("/").includes("..")) throw new Error(`${what} "${name}" contains ".."`);
}

/** Reads and checks every header; returns the entries or throws naming the first problem. */
export async function inspectImageTar(file: string): Promise<TarEntry[]> {
  const handle = await open(file, "r");
  try {
    const { size: fileSize } = await handle.stat();
    const entries: TarEntry[] = [];
    const symlinks = new Set<string>();
    const block = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | null = null;
    let longLink: string | null = null;
    let pax = new Map<string, string>();
    const readData = async (size: number) => {
      const data = Buffer.alloc(size);
      await handle.read(data, 0, size, offset);
      return data;
    };
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, BLOCK, offset);
      if (bytesRead < BLOCK) throw new Error(`truncated at byte ${offset} (no end-of-archive marker)`);
      if (block.every((b) => b === 0)) break;
      if (!checksumOk(block)) throw new Error(`header checksum mismatch at byte ${offset} (damaged file)`);
      const typeflag = String.fromCharCode(block[156] ?? 0);
      const size = octal(block, 124, 12);
      const dataOffset = offset + BLOCK;
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (next > fileSize)
        throw new Error(`truncated: entry at byte ${offset} needs ${size} bytes past the end`);
      offset = dataOffset;
      if (typeflag === "L" || typeflag === "K" || typeflag === "x" || typeflag === "g") {
        const data = await readData(size);
        if (typeflag === "L") longName = cString(data, 0, size);
        else if (typeflag === "K") longLink = cString(data, 0, size);
        else if (typeflag === "x") pax = paxRecords(data);
        offset = next;
        continue;
      }
      const prefix = cString(block, 345, 155);
      const header = prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100);
      const name = normalize(pax.get("path") ?? longName ?? header);
      const linkTarget = pax.get("linkpath") ?? longLink ?? cString(block, 157, 100);
      const mode = octal(block, 100, 8);
      longName = null;
      longLink = null;
      pax = new Map();
      offset = next;

      checkPath(name, "entry");
      if (name !== "manifest.json" && name !== "rootfs" && !name.startsWith("rootfs/")) {
        throw new Error(`entry "${name}" is outside manifest.json and rootfs/`);
      }
      const parts = name.split("/");
      for (let i = 1; i < parts.length; i++) {
        const ancestor = parts.slice(0, i).join("/");
        if (symlinks.has(ancestor)) throw new Error(`entry "${name}" goes through the symlink "${ancestor}"`);
      }
      if (mode & 0o6000)
        throw new Error(`entry "${name}" has the setuid or setgid bit (mode ${mode.toString(8)})`);
      const types: Record<string, TarEntry["type"]> = {
        "0": "file",
        "\0": "file",
        "5": "dir",
        "2": "symlink",
        "1": "hardlink",
      };
      const type = types[typeflag];
      if (typeflag === "3" || typeflag === "4") throw new Error(`entry "${name}" is a device node`);
      if (!type) throw new Error(`entry "${name}" has unsupported type "${typeflag}"`);
      if (type === "hardlink") checkPath(normalize(linkTarget), `hard link target of "${name}":`);
      if (type === "symlink") symlinks.add(name);
      entries.push({ path: name, type, mode, size, linkTarget });
    }
    if (!entries.some((e) => e.path === "manifest.json" && e.type === "file"))
      throw new Error("no manifest.json");
    return entries;
  } finally {
    await handle.close();
  }
}
