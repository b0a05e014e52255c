import { KilnError } from '../../../common/errors.js';
import { dtypeBytes } from '../../ir/dtype.js';
import { numElements } from '../../ir/graph.js';
import type { HostTensor } from '../tensor.js';
import { decodeBundleEntry, decodeBundleHeader } from './proto.js';
import { tfDtype } from './tensor-proto.js';
import { shapeOf } from './types.js';

const TABLE_MAGIC = 0xdb4775248b80fb57n;

const bad = (what: string, why: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', `${what} is not a valid TensorFlow checkpoint index: ${why}`, {
    hint: 'Upload the variables/ folder TensorFlow wrote',
  });

class Cursor {
  constructor(
    readonly b: Uint8Array,
    public p: number,
    readonly what: string,
  ) {}
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.b.length) throw bad(this.what, 'truncated varint');
      const x = this.b[this.p++]!;
      v += (x & 0x7f) * mul;
      if (!(x & 0x80)) return v;
      mul *= 128;
    }
    throw bad(this.what, 'varint too long');
  }
}

/** Snappy block decompression (the one compression LevelDB-style tables may use). */
export function snappyDecompress(src: Uint8Array, what: string): Uint8Array {
  const c = new Cursor(src, 0, what);
  const len = c.varint();
  const out = new Uint8Array(len);
  let o = 0;
  while (c.p < src.length) {
    const tag = src[c.p++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n |= src[c.p++]! << (8 * i);
      }
      n += 1;
      if (o + n > len || c.p + n > src.length) throw bad(what, 'snappy literal out of bounds');
      out.set(src.subarray(c.p, c.p + n), o);
      o += n;
      c.p += n;
      continue;
    }
    let n: number;
    let off: number;
    if (kind === 1) {
      n = ((tag >> 2) & 7) + 4;
      off = ((tag >> 5) << 8) | src[c.p++]!;
    } else if (kind === 2) {
      n = (tag >> 2) + 1;
      off = src[c.p]! | (src[c.p + 1]! << 8);
      c.p += 2;
    } else {
      n = (tag >> 2) + 1;
      off = (src[c.p]! | (src[c.p + 1]! << 8) | (src[c.p + 2]! << 16) | (src[c.p + 3]! << 24)) >>> 0;
      c.p += 4;
    }
    if (off === 0 || off > o || o + n > len) throw bad(what, 'snappy copy out of bounds');
    for (let i = 0; i < n; i++, o++) out[o] = out[o - off]!;
  }
  if (o !== len) throw bad(what, 'snappy length mismatch');
  return out;
}

function readBlock(file: Uint8Array, offset: number, size: number, what: string): Uint8Array {
  if (offset + size + 5 > file.length) throw bad(what, 'block out of bounds');
  const data = file.subarray(offset, offset + size);
  const type = file[offset + size]!;
  if (type === 0) return data;
  if (type === 1) return snappyDecompress(data, what);
  throw bad(what, `unknown block compression ${type}`);
}

function blockEntries(block: Uint8Array, what: string): [string, Uint8Array][] {
  if (block.length < 4) throw bad(what, 'block too short');
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const nRestarts = dv.getUint32(block.length - 4, true);
  const end = block.length - 4 - 4 * nRestarts;
  if (end < 0) throw bad(what, 'bad restart count');
  const out: [string, Uint8Array][] = [];
  const c = new Cursor(block, 0, what);
  let key = new Uint8Array(0);
  while (c.p < end) {
    const shared = c.varint();
    const nonShared = c.varint();
    const vlen = c.varint();
    if (shared > key.length || c.p + nonShared + vlen > end) throw bad(what, 'entry out of bounds');
    const k = new Uint8Array(shared + nonShared);
    k.set(key.subarray(0, shared));
    k.set(block.subarray(c.p, c.p + nonShared), shared);
    c.p += nonShared;
    out.push([new TextDecoder().decode(k), block.subarray(c.p, c.p + vlen)]);
    c.p += vlen;
    key = k;
  }
  return out;
}

/** All key/value pairs of a LevelDB-format table (TF's checkpoint index `variables.index`). */
export function readTable(file: Uint8Array, what: string): Map<string, Uint8Array> {
  if (file.length < 48) throw bad(what, 'shorter than a table footer');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getBigUint64(file.length - 8, true) !== TABLE_MAGIC) throw bad(what, 'no table magic number');
  const c = new Cursor(file, file.length - 48, what);
  c.varint();
  c.varint(); // metaindex handle (unused)
  const indexOffset = c.varint();
  const indexSize = c.varint();
  const out = new Map<string, Uint8Array>();
  for (const [, handle] of blockEntries(readBlock(file, indexOffset, indexSize, what), what)) {
    const h = new Cursor(handle, 0, what);
    const off = h.varint();
    const size = h.varint();
    for (const [k, v] of blockEntries(readBlock(file, off, size, what), what)) out.set(k, v);
  }
  return out;
}

/**
 * A TensorFlow checkpoint (TensorBundle): `<prefix>.index` maps checkpoint keys to BundleEntryProtos that locate each
 * tensor in the `<prefix>.data-NNNNN-of-MMMMM` shards.
 */
export class TensorBundle {
  private constructor(
    private readonly entries: Map<string, Record<string, any>>,
    private readonly shards: (Uint8Array | undefined)[],
    private readonly what: string,
  ) {}

  static read(index: Uint8Array, readShard: (name: string) => Uint8Array | undefined, what: string): TensorBundle {
    const table = readTable(index, what);
    const header = table.get('');
    const numShards = header ? Number(decodeBundleHeader(header, `${what} header`)['numShards'] ?? 1) : 1;
    if (header && decodeBundleHeader(header, `${what} header`)['endianness'] === 'BIG')
      throw bad(what, 'big-endian checkpoints are not supported');
    const entries = new Map<string, Record<string, any>>();
    for (const [k, v] of table) if (k !== '') entries.set(k, decodeBundleEntry(v, `${what} entry ${k}`));
    const pad = (n: number): string => String(n).padStart(5, '0');
    const shards = Array.from({ length: numShards }, (_v, i) => readShard(`data-${pad(i)}-of-${pad(numShards)}`));
    return new TensorBundle(entries, shards, what);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get(key: string): HostTensor | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e['slices']?.length)
      throw new KilnError('E_UNSUPPORTED_TYPE', `${this.what}: variable ${key} is stored in slices (partitioned)`, {
        hint: 'Save the model unpartitioned',
      });
    const dtype = tfDtype(e['dtype'], `${this.what} ${key}`);
    const shape = shapeOf(e['shape']) ?? [];
    const shardId = Number(e['shardId'] ?? 0);
    const shard = this.shards[shardId];
    if (!shard)
      throw new KilnError('E_FILE_NOT_FOUND', `${this.what}: checkpoint shard ${shardId} is missing`, {
        hint: 'Upload every variables.data-* file',
      });
    const off = Number(e['offset'] ?? 0);
    const size = Number(e['size'] ?? 0);
    if (off + size > shard.length) throw bad(this.what, `tensor ${key} runs past the end of its shard`);
    if (dtype === 'string') return { dtype, shape, data: new Uint8Array(0), strings: [] };
    const data = shard.slice(off, off + size);
    if (data.length !== numElements(shape) * dtypeBytes(dtype))
      throw bad(this.what, `tensor ${key} has ${data.length} bytes for shape [${shape.join(',')}] of ${dtype}`);
    return { dtype, shape, data };
  }
}
