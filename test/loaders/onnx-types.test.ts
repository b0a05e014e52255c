import test from 'ava';
import type { AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { attr, convertOnnx, init, nodeModel, runTflite, type IoSpec } from './helpers/onnx-node-case.js';

/**
 * ONNX integer arithmetic TFLite's kernels do not take directly (uint8/int8 operands, int64 Pow, fmod=1), computed
 * in a wider type and cast back; AveragePool that leaves explicit padding out of the average. Each model is built in
 * code, run in the TFLite runtime against values computed here with ONNX's (numpy's) semantics, and in Kiln's
 * interpreter against the runtime.
 */

const io = (name: string, dtype: IoSpec['dtype'], dims: number[]): IoSpec => ({ name, dtype, dims });

function spread(n: number, lo: number, hi: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return lo + (s % (hi - lo + 1));
  });
}

const wrapU8 = (v: number): number => ((v % 256) + 256) % 256;
const wrapI8 = (v: number): number => ((((v + 128) % 256) + 256) % 256) - 128;

async function check(
  t: import('ava').ExecutionContext,
  bytes: Uint8Array,
  inputs: AnyTypedArray[],
  want: ArrayLike<number | bigint>,
  tol = 0,
  interpreter = true,
): Promise<void> {
  const conv = convertOnnx(bytes);
  const [got] = await runTflite(conv, inputs);
  const g = Array.from(got as ArrayLike<number | bigint>, Number);
  const w = Array.from(want, Number);
  t.is(g.length, w.length);
  const bad = g.findIndex((v, i) => !(Math.abs(v - w[i]!) <= tol));
  t.is(bad, -1, `at ${bad}: ${g[bad]} vs ${w[bad]}`);
  if (interpreter) await expectSameAsTflite(t, conv.model, { seeds: [1], inputs: () => inputs });
}

const binaryU8: [string, (a: number, b: number) => number][] = [
  ['Add', (a, b) => wrapU8(a + b)],
  ['Sub', (a, b) => wrapU8(a - b)],
  ['Mul', (a, b) => wrapU8(a * b)],
  ['Div', (a, b) => Math.trunc(a / b)],
  ['Mod', (a, b) => a % b],
];

for (const [op, f] of binaryU8)
  test(`${op} on uint8 wraps around as ONNX does`, async (t) => {
    const a = Uint8Array.from(spread(24, 0, 255, 3));
    const b = Uint8Array.from(spread(24, 1, 255, 5));
    const bytes = nodeModel({
      op,
      inputs: [io('a', 'uint8', [2, 12]), io('b', 'uint8', [2, 12])],
      outputs: [io('y', 'uint8', [2, 12])],
    });
    await check(
      t,
      bytes,
      [a, b],
      Array.from(a, (v, i) => f(v, b[i]!)),
    );
  });

/** ONNX's Mod on integers (fmod=0): the remainder takes the divisor's sign. */
const floorMod = (x: number, y: number): number => x - Math.floor(x / y) * y;

/** Each binary op on `a` and `b` of element type `dtype`, against `f` (numpy's result) per element. */
async function binaryCases(
  t: import('ava').ExecutionContext,
  dtype: IoSpec['dtype'],
  a: Int8Array | Int16Array | Uint32Array,
  b: Int8Array | Int16Array | Uint32Array,
  cases: readonly (readonly [string, (x: number, y: number) => number])[],
): Promise<void> {
  for (const [op, f] of cases) {
    const bytes = nodeModel({
      op,
      inputs: [io('a', dtype, [a.length]), io('b', dtype, [b.length])],
      outputs: [io('y', dtype, [a.length])],
    });
    await check(
      t,
      bytes,
      [a, b],
      Array.from(a, (v, i) => f(v, b[i]!)),
    );
  }
}

test('Add, Mul and Mod (floored, the divisor’s sign) on int8 wrap around', async (t) => {
  const a = Int8Array.from(spread(24, -128, 127, 7));
  const b = Int8Array.from(spread(24, -128, 127, 9).map((v) => v || 3));
  await binaryCases(t, 'int8', a, b, [
    ['Add', (x: number, y: number) => wrapI8(x + y)],
    ['Mul', (x: number, y: number) => wrapI8(x * y)],
    ['Mod', floorMod],
  ]);
});

test('Max, Min, Add, Mul and Mod on int16 compute in int32 and wrap around as numpy', async (t) => {
  const a = Int16Array.from(spread(24, -32768, 32767, 11));
  const b = Int16Array.from(spread(24, -32768, 32767, 13).map((v) => v || 5));
  const wrapI16 = (v: number): number => ((((v + 32768) % 65536) + 65536) % 65536) - 32768;
  await binaryCases(t, 'int16', a, b, [
    ['Max', Math.max],
    ['Min', Math.min],
    ['Add', (x: number, y: number) => wrapI16(x + y)],
    ['Mul', (x: number, y: number) => wrapI16(x * y)],
    ['Mod', floorMod],
  ]);
});

test('Max, Min and Mod on uint32 (values past 2^31) compute in int64; Pow takes a uint32 exponent', async (t) => {
  const a = Uint32Array.from(spread(24, 0, 2 ** 31 - 1, 17).map((v, i) => (i % 2 ? v * 2 + 1 : v)));
  const b = Uint32Array.from(spread(24, 1, 2 ** 31 - 1, 19).map((v, i) => (i % 3 ? v : v * 2)));
  await binaryCases(t, 'uint32', a, b, [
    ['Max', Math.max],
    ['Min', Math.min],
    ['Mod', (x: number, y: number) => x % y],
  ]);
  const base = Float32Array.from(spread(8, 1, 30, 23), (v) => v / 10);
  const exp = Uint32Array.from(spread(8, 0, 5, 29));
  const pow = nodeModel({
    op: 'Pow',
    inputs: [io('x', 'float32', [8]), io('e', 'uint32', [8])],
    outputs: [io('y', 'float32', [8])],
  });
  await check(
    t,
    pow,
    [base, exp],
    Array.from(base, (v, i) => Math.fround(v ** exp[i]!)),
    1e-4,
  );
});

test('Mod with fmod=1 is C’s remainder (the dividend’s sign) on float32, int32 and int64', async (t) => {
  const a = spread(20, -50, 50, 11);
  const b = spread(20, -9, 9, 13).map((v) => v || 4);
  const fa = Float32Array.from(a, (v) => v * 0.37);
  const fb = Float32Array.from(b, (v) => v * 0.61);
  const fmod = (x: number, y: number): number => x % y;
  const fm = nodeModel({
    op: 'Mod',
    inputs: [io('a', 'float32', [20]), io('b', 'float32', [20])],
    outputs: [io('y', 'float32', [20])],
    attrs: [attr.i('fmod', 1)],
  });
  await check(
    t,
    fm,
    [fa, fb],
    Array.from(fa, (v, i) => Math.fround(fmod(v, fb[i]!))),
    1e-6,
  );
  for (const dtype of ['int32', 'int64'] as const) {
    const bytes = nodeModel({
      op: 'Mod',
      inputs: [io('a', dtype, [20]), io('b', dtype, [20])],
      outputs: [io('y', dtype, [20])],
      attrs: [attr.i('fmod', 1)],
    });
    const ins =
      dtype === 'int32'
        ? [Int32Array.from(a), Int32Array.from(b)]
        : [BigInt64Array.from(a, BigInt), BigInt64Array.from(b, BigInt)];
    // Kiln's interpreter has no int64 NEG / FLOOR_MOD kernels: int64 in the runtime only
    await check(
      t,
      bytes,
      ins,
      a.map((v, i) => fmod(v, b[i]!)),
      0,
      dtype === 'int32',
    );
  }
});

test('Clip on int8 with int8 bounds', async (t) => {
  const x = Int8Array.from(spread(30, -128, 127, 17));
  const bytes = nodeModel({
    op: 'Clip',
    inputs: [io('x', 'int8', [30])],
    outputs: [io('y', 'int8', [30])],
    inits: [init('lo', 'int8', [], [-20]), init('hi', 'int8', [], [45])],
  });
  await check(
    t,
    bytes,
    [x],
    Array.from(x, (v) => Math.min(45, Math.max(-20, v))),
  );
});

test('MaxPool on uint8', async (t) => {
  const x = Uint8Array.from(spread(2 * 6 * 6, 0, 255, 19));
  const bytes = nodeModel({
    op: 'MaxPool',
    inputs: [io('x', 'uint8', [1, 2, 6, 6])],
    outputs: [io('y', 'uint8', [1, 2, 3, 3])],
    attrs: [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])],
  });
  const want: number[] = [];
  for (let c = 0; c < 2; c++)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const at = (di: number, dj: number): number => x[c * 36 + (2 * i + di) * 6 + 2 * j + dj]!;
        want.push(Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)));
      }
  await check(t, bytes, [x], want);
});

test('Pow with an int64 base: integer exponents exactly, float exponents truncated', async (t) => {
  const x = BigInt64Array.from([1, 2, 3, -4, 5, 7, -2, 10].map(BigInt));
  const yi = BigInt64Array.from([4, 5, 6, 3, 2, 0, 7, 8].map(BigInt));
  const ii = nodeModel({
    op: 'Pow',
    inputs: [io('x', 'int64', [8]), io('y', 'int64', [8])],
    outputs: [io('z', 'int64', [8])],
  });
  // Kiln's interpreter has no POW kernel: these run in the TFLite runtime only
  await check(
    t,
    ii,
    [x, yi],
    Array.from(x, (v, i) => v ** yi[i]!),
    0,
    false,
  );
  const yf = Float32Array.from([0.5, 2, 1.5, 2, 0.25, 3, 1, 1.2]);
  const fi = nodeModel({
    op: 'Pow',
    inputs: [io('x', 'int64', [8]), io('y', 'float32', [8])],
    outputs: [io('z', 'int64', [8])],
  });
  await check(
    t,
    fi,
    [BigInt64Array.from([4, 2, 9, 3, 16, 5, -3, 10].map(BigInt)), yf],
    [2, 4, 27, 9, 2, 125, -3, 15],
    0,
    false,
  );
});

/** ONNX AveragePool, count_include_pad=0: the mean over the window's taps inside the input. */
function avgPoolRef(x: Float32Array, h: number, w: number, k: number, s: number, pads: number[], ceil: boolean) {
  const out = (n: number, b: number, e: number): number => {
    const v = (n + b + e - k) / s;
    let o = (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
    if (ceil && (o - 1) * s >= n + b) o--;
    return o;
  };
  const oh = out(h, pads[0]!, pads[2]!);
  const ow = out(w, pads[1]!, pads[3]!);
  const y: number[] = [];
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      let sum = 0;
      let n = 0;
      for (let di = 0; di < k; di++)
        for (let dj = 0; dj < k; dj++) {
          const r = i * s - pads[0]! + di;
          const c = j * s - pads[1]! + dj;
          if (r >= 0 && r < h && c >= 0 && c < w) {
            sum += x[r * w + c]!;
            n++;
          }
        }
      y.push(sum / n);
    }
  return { y, oh, ow };
}

for (const [pads, ceil] of [
  [[1, 1, 1, 1], false],
  [[2, 0, 1, 2], false],
  [[1, 1, 0, 0], true],
] as const)
  test(`AveragePool count_include_pad=0, pads [${pads.join(', ')}]${ceil ? ', ceil_mode' : ''}`, async (t) => {
    const x = Float32Array.from(spread(7 * 8, -100, 100, 23), (v) => v / 10);
    const { y, oh, ow } = avgPoolRef(x, 7, 8, 3, 2, [...pads], ceil);
    const bytes = nodeModel({
      op: 'AveragePool',
      inputs: [io('x', 'float32', [1, 1, 7, 8])],
      outputs: [io('y', 'float32', [1, 1, oh, ow])],
      attrs: [
        attr.ints('kernel_shape', [3, 3]),
        attr.ints('strides', [2, 2]),
        attr.ints('pads', [...pads]),
        ...(ceil ? [attr.i('ceil_mode', 1)] : []),
      ],
    });
    await check(t, bytes, [x], y, 1e-5);
  });
