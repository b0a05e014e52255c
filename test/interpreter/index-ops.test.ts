import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { expectSameAsTflite } from './oracle-compare.js';

// SCATTER_ND, ONE_HOT, REVERSE_SEQUENCE, WHERE and SELECT_V2 (what the ONNX index ops convert to), each run in
// Kiln's interpreter and in the TFLite runtime on the same inputs.
type B = ModelBuilder;

interface Case {
  name: string;
  build: (b: B) => void;
  /** Inputs for a seed, when random ones do not fit (data-dependent output sizes). */
  inputs?: (seed: number) => AnyTypedArray[];
}

const one = (b: B, type: string, ins: number[], shape: number[], dtype: 'float32' | 'int32' | 'int64', f = {}) =>
  b.op(type, ins, f, { outputs: [{ name: 'y', shape, dtype }] })[0]!;

const cases: Case[] = [
  {
    // rows 0 and 2 name the same position: TFLite sums them
    name: 'SCATTER_ND float32 rows into [5, 3], one index twice',
    build: (b) =>
      b.output(
        one(
          b,
          'SCATTER_ND',
          [b.constant('i', 'int32', [4, 1], [3, 0, 3, 4]), b.input('u', [4, 3]), b.constant('s', 'int32', [2], [5, 3])],
          [5, 3],
          'float32',
        ),
      ),
  },
  {
    name: 'SCATTER_ND int32 elements of [3, 4, 2] by 2-deep indices',
    build: (b) =>
      b.output(
        one(
          b,
          'SCATTER_ND',
          [
            b.constant('i', 'int32', [2, 2, 2], [0, 1, 2, 3, 1, 0, 2, 2]),
            b.input('u', [2, 2, 2], 'int32'),
            b.constant('s', 'int32', [3], [3, 4, 2]),
          ],
          [3, 4, 2],
          'int32',
        ),
      ),
  },
  {
    // negative and too-large indices give rows of off values
    name: 'ONE_HOT float32 last axis, indices out of range',
    build: (b) =>
      b.output(
        one(
          b,
          'ONE_HOT',
          [
            b.constant('i', 'int32', [2, 3], [0, 4, -1, 2, 5, 1]),
            b.constant('d', 'int32', [], [5]),
            b.input('on', [], 'float32'),
            b.input('off', [], 'float32'),
          ],
          [2, 3, 5],
          'float32',
          { axis: -1 },
        ),
      ),
  },
  {
    name: 'ONE_HOT int32 along axis 1 from int64 indices',
    build: (b) =>
      b.output(
        one(
          b,
          'ONE_HOT',
          [
            b.constant('i', 'int64', [2, 3], [3, 0, 1, 2, 2, -2]),
            b.constant('d', 'int32', [], [4]),
            b.input('on', [], 'int32'),
            b.constant('off', 'int32', [], [-7]),
          ],
          [2, 4, 3],
          'int32',
          { axis: 1 },
        ),
      ),
  },
  {
    name: 'REVERSE_SEQUENCE float32 time axis 1, batch axis 0',
    build: (b) =>
      b.output(
        one(
          b,
          'REVERSE_SEQUENCE',
          [b.input('x', [4, 5, 2]), b.constant('l', 'int32', [4], [0, 1, 5, 3])],
          [4, 5, 2],
          'float32',
          { seqDim: 1, batchDim: 0 },
        ),
      ),
  },
  {
    name: 'REVERSE_SEQUENCE int32 time axis 0, batch axis 2, int64 lengths',
    build: (b) =>
      b.output(
        one(
          b,
          'REVERSE_SEQUENCE',
          [b.input('x', [4, 2, 3], 'int32'), b.constant('l', 'int64', [3], [4, 2, 1])],
          [4, 2, 3],
          'int32',
          { seqDim: 0, batchDim: 2 },
        ),
      ),
  },
  {
    name: 'WHERE coordinates of the true elements of a [3, 4] bool',
    build: (b) => b.output(one(b, 'WHERE', [b.input('c', [3, 4], 'bool')], [5, 2], 'int64')),
    // five true elements each run, at different places
    inputs: (seed) => [
      Uint8Array.from({ length: 12 }, (_v, i) =>
        (seed === 1 ? [0, 3, 4, 9, 11] : [1, 2, 5, 6, 10]).includes(i) ? 1 : 0,
      ),
    ],
  },
  {
    name: 'SELECT_V2 float32, condition, x and y broadcast',
    build: (b) =>
      b.output(
        one(
          b,
          'SELECT_V2',
          [b.input('c', [2, 1, 4], 'bool'), b.input('a', [2, 3, 4]), b.constant('z', 'float32', [4], [1, -2, 3, -4])],
          [2, 3, 4],
          'float32',
        ),
      ),
  },
];

for (const c of cases) {
  test(c.name, async (t) => {
    const b = new ModelBuilder();
    c.build(b);
    await expectSameAsTflite(t, b.build(), {
      ...(c.inputs ? { inputs: (seed: number) => c.inputs!(seed) } : {}),
    });
  });
}

test('WHERE refuses a run whose count of true elements differs from the declared output', (t) => {
  const b = new ModelBuilder();
  b.output(one(b, 'WHERE', [b.input('c', [6], 'bool')], [2, 1], 'int64'));
  const interp = new Interpreter(b.build());
  const e = t.throws(() => interp.run([Uint8Array.from([1, 1, 1, 0, 0, 0])]));
  t.regex(e.message, /3 true elements, but the model declares 2/);
  t.deepEqual(Array.from(interp.run([Uint8Array.from([0, 1, 0, 0, 0, 1])]).outputs[0]!.data as BigInt64Array), [
    1n,
    5n,
  ]);
});
