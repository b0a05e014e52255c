import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { readNpy, writeNpy } from '../../shared/toolchain/npy/index.js';

test('a .npy round-trips for every supported dtype', (t) => {
  const cases = [
    { dtype: 'float32' as const, data: Float32Array.from([1.5, -2, 3.25, 0, 7, 8]) },
    { dtype: 'int8' as const, data: Int8Array.from([-128, 127, 0, 5, -5, 1]) },
    { dtype: 'uint8' as const, data: Uint8Array.from([0, 255, 1, 2, 3, 4]) },
    { dtype: 'int32' as const, data: Int32Array.from([-1, 2 ** 31 - 1, 0, 9, 8, 7]) },
    { dtype: 'int64' as const, data: BigInt64Array.from([1n, -2n, 3n, 4n, 5n, 6n]) },
  ];
  for (const c of cases) {
    const bytes = writeNpy({ dtype: c.dtype, shape: [2, 3], data: c.data });
    t.is((bytes.length - bytes.indexOf(0x0a) - 1) % 1, 0);
    const back = readNpy(bytes);
    t.is(back.dtype, c.dtype);
    t.deepEqual(back.shape, [2, 3]);
    t.deepEqual(Array.from(back.data as ArrayLike<number | bigint>), Array.from(c.data as ArrayLike<number | bigint>));
  }
});

test('reads a numpy-written header (version 1.0, scalar and 1-D shapes)', (t) => {
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = header + ' '.repeat(pad) + '\n';
  const bytes = new Uint8Array(10 + h.length + 12);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  bytes.set(new TextEncoder().encode(h), 10);
  bytes.set(new Uint8Array(Float32Array.from([1, 2, 3]).buffer), 10 + h.length);
  const a = readNpy(bytes);
  t.deepEqual(a.shape, [3]);
  t.deepEqual(Array.from(a.data as Float32Array), [1, 2, 3]);
});

test('bad files are E_NPY errors that say why', (t) => {
  const good = writeNpy({ dtype: 'float32', shape: [4], data: new Float32Array(4) });
  const e1 = t.throws(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])), { instanceOf: KilnError });
  t.is(e1.code, 'E_NPY');
  t.regex(e1.message, /magic/);
  t.regex(t.throws(() => readNpy(good.subarray(0, good.length - 4)))!.message, /needs 16/);
  const big = new TextDecoder('latin1').decode(good).replace('<f4', '>f4');
  t.regex(t.throws(() => readNpy(Uint8Array.from(big, (c) => c.charCodeAt(0))))!.message, /big-endian/);
  const fortran = new TextDecoder('latin1').decode(good).replace('False', 'True ');
  t.regex(t.throws(() => readNpy(Uint8Array.from(fortran, (c) => c.charCodeAt(0))))!.message, /Fortran/);
});

test('reads a .npy held in a pooled Node Buffer (a view into a larger ArrayBuffer)', (t) => {
  const file = writeNpy({ dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
  const pool = Buffer.alloc(file.length + 64);
  const view = pool.subarray(32, 32 + file.length);
  view.set(file);
  const a = readNpy(view);
  t.deepEqual(Array.from(a.data as Float32Array), [1, 2, 3, 4, 5, 6]);
});
