/** A test-side writer of LevelDB-format tables (TF checkpoint indexes), with prefix-compressed keys. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function block(entries: [string, Uint8Array][], restartEvery: number): Uint8Array {
  const out: number[] = [];
  const restarts: number[] = [];
  let prev = new Uint8Array(0);
  entries.forEach(([k, v], i) => {
    const key = new TextEncoder().encode(k);
    let shared = 0;
    if (i % restartEvery === 0) restarts.push(out.length);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    out.push(...varint(shared), ...varint(key.length - shared), ...varint(v.length), ...key.subarray(shared), ...v);
    prev = key;
  });
  for (const r of restarts) out.push(r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff, r >>> 24);
  const n = restarts.length;
  out.push(n & 0xff, (n >> 8) & 0xff, 0, 0);
  return Uint8Array.from(out);
}

/** Sorted entries → table bytes: one data block per `perBlock` entries, an index block, a footer with the magic. */
export function writeTable(
  entries: [string, Uint8Array][],
  perBlock = 2,
  compress?: (b: Uint8Array) => Uint8Array,
): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const file: number[] = [];
  const index: [string, Uint8Array][] = [];
  const emit = (b: Uint8Array, type: number): [number, number] => {
    const off = file.length;
    file.push(...b, type, 0, 0, 0, 0);
    return [off, b.length];
  };
  for (let i = 0; i < sorted.length; i += perBlock) {
    const chunk = sorted.slice(i, i + perBlock);
    const raw = block(chunk, 1);
    const [off, size] = compress ? emit(compress(raw), 1) : emit(raw, 0);
    index.push([chunk.at(-1)![0], Uint8Array.from([...varint(off), ...varint(size)])]);
  }
  const [moff, msize] = emit(block([], 1), 0);
  const [ioff, isize] = emit(block(index, 1), 0);
  const footer = [...varint(moff), ...varint(msize), ...varint(ioff), ...varint(isize)];
  while (footer.length < 40) footer.push(0);
  const magic = new Uint8Array(new BigUint64Array([0xdb4775248b80fb57n]).buffer);
  file.push(...footer, ...magic);
  return Uint8Array.from(file);
}

/** Snappy framing with literal runs only (the decoder's copy path is tested on hand-made input). */
export function snappyLike(raw: Uint8Array): Uint8Array {
  const out: number[] = [...varint(raw.length)];
  for (let i = 0; i < raw.length; i += 60) {
    const part = raw.subarray(i, i + 60);
    out.push((part.length - 1) << 2, ...part);
  }
  return Uint8Array.from(out);
}
