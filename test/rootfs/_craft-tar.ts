// Writes small ustar archives entry by entry, including entries GNU tar would refuse to create
// (absolute names, "..", device nodes), so the import checks can be tested against each trick.

export interface CraftEntry {
  name: string;
  type?: "0" | "1" | "2" | "3" | "5";
  mode?: number;
  content?: string;
  linkTarget?: string;
}

function octalField(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

function header(entry: CraftEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(entry.name, 0, 100);
  block.write(octalField(entry.mode ?? 0o644, 8), 100);
  block.write(octalField(0, 8), 108);
  block.write(octalField(0, 8), 116);
  block.write(octalField(size, 12), 124);
  block.write(octalField(0, 12), 136);
  block.write("        ", 148);
  block.write(entry.type ?? "0", 156);
  block.write(entry.linkTarget ?? "", 157, 100);
  block.write("ustar\u000000", 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return block;
}

export function craftTar(entries: CraftEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.content ?? "");
    parts.push(header(entry, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
