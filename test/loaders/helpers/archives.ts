import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

/** Test-side archive writers (so tests build their own zips and tarballs, including malicious ones). */

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Unix mode for the external attributes (e.g. 0o120777 for a symlink). */
  mode?: number;
  /** Claimed uncompressed size, to forge a bomb-like header. */
  claimedSize?: number;
}

/**
 * A zip of the given entries. With `zip64`, every size and offset is stored in zip64 form (0xFFFFFFFF in the 32-bit
 * fields, the real values in each entry's zip64 extra field, a zip64 end-of-central-directory record and locator), as
 * zip tools write archives past 4 GiB or 65,535 entries.
 */
export function writeZip(entries: ZipEntry[], opts: { zip64?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const z64 = opts.zip64 === true;
  const u64 = (...values: number[]): Buffer => {
    const b = Buffer.alloc(8 * values.length);
    values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 8 * i));
    return b;
  };
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(enc.encode(e.name));
    const body = e.deflate ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    const usize = e.claimedSize ?? e.data.length;
    const version = z64 ? 45 : 20;
    const big = z64 ? 0xffffffff : undefined;
    const extraField = (values: Buffer): Buffer => {
      const head = Buffer.alloc(4);
      head.writeUInt16LE(0x0001, 0);
      head.writeUInt16LE(values.length, 2);
      return Buffer.concat([head, values]);
    };
    const locExtra = z64 ? extraField(u64(usize, body.length)) : Buffer.alloc(0);
    const loc = Buffer.alloc(30);
    loc.writeUInt32LE(0x04034b50, 0);
    loc.writeUInt16LE(version, 4);
    loc.writeUInt16LE(e.deflate ? 8 : 0, 8);
    loc.writeUInt32LE(crc, 14);
    loc.writeUInt32LE(big ?? body.length, 18);
    loc.writeUInt32LE(big ?? usize, 22);
    loc.writeUInt16LE(name.length, 26);
    loc.writeUInt16LE(locExtra.length, 28);
    locals.push(loc, name, locExtra, body);
    const cenExtra = z64 ? extraField(u64(usize, body.length, offset)) : Buffer.alloc(0);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE((3 << 8) | version, 4);
    cen.writeUInt16LE(version, 6);
    cen.writeUInt16LE(e.deflate ? 8 : 0, 10);
    cen.writeUInt32LE(crc, 16);
    cen.writeUInt32LE(big ?? body.length, 20);
    cen.writeUInt32LE(big ?? usize, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt16LE(cenExtra.length, 30);
    cen.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    cen.writeUInt32LE(big ?? offset, 42);
    centrals.push(cen, name, cenExtra);
    offset += 30 + name.length + locExtra.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  if (z64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    u64(entries.length, entries.length, cd.length, offset).copy(rec, 24);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(rec, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(z64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(z64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(z64 ? 0xffffffff : cd.length, 12);
  end.writeUInt32LE(z64 ? 0xffffffff : offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, ...tail, end]));
}

export interface TarEntry {
  name: string;
  data?: Uint8Array;
  /** '0' file, '5' folder, '2' symlink, '1' hard link */
  type?: string;
  linkName?: string;
}

export function writeTarGz(entries: TarEntry[]): Uint8Array {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? new Uint8Array(0));
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write(e.type ?? '0', 156);
    if (e.linkName) h.write(e.linkName, 157, 100, 'utf8');
    h.write('ustar\0', 257);
    h.write('00', 263);
    h.fill(32, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return new Uint8Array(gzipSync(Buffer.concat(blocks)));
}
