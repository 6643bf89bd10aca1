import { crc32, deflateRawSync } from "node:zlib";

// A tiny zip writer for tests that need archives no well-behaved zip library would write: names
// with "..", absolute paths, symlink entries, headers that lie about sizes. Unix "version made
// by", so the external attributes carry a Unix mode (type and permission bits).

export interface ZipEntrySpec {
  name: string;
  data?: Buffer | string;
  /** Unix mode with the file type, e.g. 0o100644 (file, the default) or 0o120777 (symlink). */
  mode?: number;
  deflate?: boolean;
  /** Claimed uncompressed size, when the test wants a header that lies. */
  claimedSize?: number;
}

export function writeZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? "");
    const stored = entry.deflate ? deflateRawSync(data) : data;
    const name = Buffer.from(entry.name, "utf8");
    const size = entry.claimedSize ?? data.length;
    const fields = (header: Buffer, at: number) => {
      header.writeUInt16LE(0x0800, at); // flags: UTF-8 names
      header.writeUInt16LE(entry.deflate ? 8 : 0, at + 2);
      header.writeUInt32LE(0, at + 4); // time and date
      header.writeUInt32LE(crc32(data), at + 8);
      header.writeUInt32LE(stored.length, at + 12);
      header.writeUInt32LE(size, at + 16);
      header.writeUInt16LE(name.length, at + 20);
      header.writeUInt16LE(0, at + 22); // extra length
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    fields(local, 6);
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    fields(central, 8);
    central.writeUInt16LE(0, 32); // comment length
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
