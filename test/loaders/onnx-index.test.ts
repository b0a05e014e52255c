import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isKilnError } from '../../shared/common/errors.js';
import { typedView, type AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { convertModel } from '../../shared/toolchain/loaders/convert.js';
import { decodeOnnxTensor } from '../../shared/toolchain/loaders/onnx/proto.js';
import { constOf, tensorFromOnnx } from '../../shared/toolchain/loaders/onnx/tensor.js';
import { DEFAULT_DATA } from '../../scripts/onnx-conformance.js';
import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { attrInt, attrStr, expectSameAsOrt, nodeModel, type Port } from './helpers/onnx-port-model.js';
import { convertOnnxBytes } from './helpers/onnx-proto-parts.js';

// ONNX's index ops (GatherND, GatherElements, the scatters, OneHot, TopK, ReverseSequence, NonZero, Compress) built in
// code, converted, and run in the TFLite runtime against onnxruntime on the same feeds.

const floats = (n: number, seed: number): Float32Array => {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return Math.round(((s / 2147483647) * 2 - 1) * 1000) / 100;
  });
};
const i64 = (v: number[]): BigInt64Array => BigInt64Array.from(v.map(BigInt));

test('GatherND with batch_dims 1 and negative indices computed at run time', async (t) => {
  const inputs: Port[] = [
    { name: 'x', elem: 'float', dims: [2, 3, 4] },
    { name: 'i', elem: 'int64', dims: [2, 2, 2] },
  ];
  const bytes = nodeModel('GatherND', inputs, [{ name: 'y', elem: 'float', dims: [2, 2] }], [attrInt('batch_dims', 1)]);
  const types = await expectSameAsOrt(t, bytes, inputs, [
    [floats(24, 1), i64([0, 0, 2, 3, -1, -4, 1, 2])],
    [floats(24, 2), i64([-3, 1, 2, -1, 0, 3, -2, -2])],
  ]);
  t.true(types.includes('GATHER_ND') && types.includes('CONCATENATION'));
});

test('GatherElements along the last axis, run-time and constant indices', async (t) => {
  const run: Port[] = [
    { name: 'x', elem: 'float', dims: [2, 3, 4] },
    { name: 'i', elem: 'int64', dims: [2, 2, 3] },
  ];
  const y: Port[] = [{ name: 'y', elem: 'float', dims: [2, 2, 3] }];
  await expectSameAsOrt(t, nodeModel('GatherElements', run, y, [attrInt('axis', -1)]), run, [
    [floats(24, 3), i64([0, 1, 2, 3, -1, -4, 3, 3, 0, 1, -2, 2])],
  ]);
  const fixed: Port[] = [
    { name: 'x', elem: 'float', dims: [2, 3, 4] },
    { name: 'i', elem: 'int64', dims: [1, 3, 2], init: [0, 1, -1, 0, 1, 1] },
  ];
  const types = await expectSameAsOrt(
    t,
    nodeModel('GatherElements', fixed, [{ name: 'y', elem: 'float', dims: [1, 3, 2] }], [attrInt('axis', 0)]),
    fixed,
    [[floats(24, 4)]],
  );
  t.deepEqual(types, ['RESHAPE', 'GATHER']);
});

test('ScatterND: none, add, and mul / max / min applied row by row, with a repeated index', async (t) => {
  const inputs: Port[] = [
    { name: 'x', elem: 'float', dims: [4, 3] },
    { name: 'i', elem: 'int64', dims: [3, 1] },
    { name: 'u', elem: 'float', dims: [3, 3] },
  ];
  const y: Port[] = [{ name: 'y', elem: 'float', dims: [4, 3] }];
  for (const reduction of ['add', 'mul', 'max', 'min']) {
    const types = await expectSameAsOrt(
      t,
      nodeModel('ScatterND', inputs, y, [attrStr('reduction', reduction)]),
      inputs,
      [
        [floats(12, 5), i64([2, -1, 2]), floats(9, 6)],
        [floats(12, 7), i64([0, 1, 3]), floats(9, 8)],
      ],
    );
    t.true(types.includes('SCATTER_ND'), reduction);
  }
  // reduction none: distinct indices (ONNX leaves repeated ones undefined)
  await expectSameAsOrt(t, nodeModel('ScatterND', inputs, y), inputs, [
    [floats(12, 9), i64([3, 0, -3]), floats(9, 10)],
  ]);
});

test('ScatterElements along axis 1 with negative indices, add with repeated indices, and opset-10 Scatter', async (t) => {
  const inputs: Port[] = [
    { name: 'x', elem: 'float', dims: [2, 5] },
    { name: 'i', elem: 'int64', dims: [2, 3] },
    { name: 'u', elem: 'float', dims: [2, 3] },
  ];
  const y: Port[] = [{ name: 'y', elem: 'float', dims: [2, 5] }];
  const feeds = [[floats(10, 11), i64([0, -1, 2, 4, 3, -5]), floats(6, 12)]];
  await expectSameAsOrt(t, nodeModel('ScatterElements', inputs, y, [attrInt('axis', 1)]), inputs, feeds);
  await expectSameAsOrt(t, nodeModel('Scatter', inputs, y, [attrInt('axis', 1)], 10), inputs, feeds);
  await expectSameAsOrt(
    t,
    nodeModel('ScatterElements', inputs, y, [attrInt('axis', 1), attrStr('reduction', 'add')]),
    inputs,
    [[floats(10, 13), i64([1, 1, -4, 0, 0, 0]), floats(6, 14)]],
  );
});

test('OneHot with depth and values fed at run time (depth from the declared shape), axis 0, negative indices', async (t) => {
  const inputs: Port[] = [
    { name: 'i', elem: 'float', dims: [2, 3] },
    { name: 'd', elem: 'float', dims: [] },
    { name: 'v', elem: 'float', dims: [2] },
  ];
  const bytes = nodeModel('OneHot', inputs, [{ name: 'y', elem: 'float', dims: [4, 2, 3] }], [attrInt('axis', 0)], 11);
  const types = await expectSameAsOrt(t, bytes, inputs, [
    [Float32Array.from([0, 3, -1, -4, -5, 4]), Float32Array.from([4]), Float32Array.from([-2, 9])],
  ]);
  t.true(types.includes('ONE_HOT'));
  const ints: Port[] = [
    { name: 'i', elem: 'int64', dims: [3] },
    { name: 'd', elem: 'float', dims: [], init: [5] },
    { name: 'v', elem: 'int32', dims: [2] },
  ];
  const y = [{ name: 'y', elem: 'int32' as const, dims: [3, 5] }];
  await expectSameAsOrt(t, nodeModel('OneHot', ints, y, [], 11), ints, [[i64([-5, 4, 2]), Int32Array.from([0, 7])]]);
});

test('TopK: smallest along axis 0 with ties, k fed at run time; largest along the last axis', async (t) => {
  const inputs: Port[] = [
    { name: 'x', elem: 'float', dims: [5, 3] },
    { name: 'k', elem: 'int64', dims: [1] },
  ];
  const outs = (k: number, rows: boolean): Port[] => [
    { name: 'v', elem: 'float', dims: rows ? [k, 3] : [5, k] },
    { name: 'i', elem: 'int64', dims: rows ? [k, 3] : [5, k] },
  ];
  const ties = Float32Array.from([1, 2, 2, 0, 2, 1, 1, 0, 2, 0, 2, 1, 1, 1, 0]);
  const small = nodeModel('TopK', inputs, outs(3, true), [attrInt('axis', 0), attrInt('largest', 0)], 11);
  const types = await expectSameAsOrt(t, small, inputs, [
    [ties, i64([3])],
    [floats(15, 15), i64([3])],
  ]);
  t.true(types.includes('TOPK_V2') && types.includes('NEG') && types.includes('TRANSPOSE'));
  await expectSameAsOrt(t, nodeModel('TopK', inputs, outs(2, false), [attrInt('axis', -1)], 11), inputs, [
    [ties, i64([2])],
  ]);
});

test('ReverseSequence with the batch on axis 1 and time on axis 0 of a 3-D input', async (t) => {
  const inputs: Port[] = [
    { name: 'x', elem: 'float', dims: [4, 3, 2] },
    { name: 'l', elem: 'int64', dims: [3] },
  ];
  const bytes = nodeModel(
    'ReverseSequence',
    inputs,
    [{ name: 'y', elem: 'float', dims: [4, 3, 2] }],
    [attrInt('batch_axis', 1), attrInt('time_axis', 0)],
    10,
  );
  const types = await expectSameAsOrt(t, bytes, inputs, [[floats(24, 16), i64([4, 1, 2])]]);
  t.deepEqual(types, ['CAST', 'REVERSE_SEQUENCE']);
});

test('NonZero of a float tensor and Compress by a run-time condition take their counts from the declared shapes', async (t) => {
  const nz: Port[] = [{ name: 'x', elem: 'float', dims: [3, 4] }];
  const x = Float32Array.from([0, 1.5, 0, 0, -2, 0, 0, 3, 0, 0, 0, 7]);
  await expectSameAsOrt(t, nodeModel('NonZero', nz, [{ name: 'y', elem: 'int64', dims: [2, 4] }]), nz, [[x]]);
  const cp: Port[] = [
    { name: 'x', elem: 'float', dims: [3, 4] },
    { name: 'c', elem: 'bool', dims: [3] },
  ];
  const types = await expectSameAsOrt(
    t,
    nodeModel('Compress', cp, [{ name: 'y', elem: 'float', dims: [3, 2] }], [attrInt('axis', 1)]),
    cp,
    [
      [floats(12, 17), Uint8Array.from([1, 0, 1])],
      [floats(12, 18), Uint8Array.from([0, 1, 1])],
    ],
  );
  t.true(types.includes('WHERE') && types.includes('GATHER'));
  // a constant condition needs no declared shape (the flattened input without an axis)
  const fixed: Port[] = [
    { name: 'x', elem: 'float', dims: [3, 4] },
    { name: 'c', elem: 'bool', dims: [5], init: [0, 1, 1, 0, 1] },
  ];
  t.deepEqual(await expectSameAsOrt(t, nodeModel('Compress', fixed, [{ name: 'y', elem: 'float' }]), fixed, [[x]]), [
    'RESHAPE',
    'GATHER',
  ]);
});

test('sizes that depend on the data without a declared output shape are refused, naming the input', (t) => {
  const refusal = (bytes: Uint8Array): string => {
    const e = t.throws(() => convertOnnxBytes(bytes));
    t.true(isKilnError(e));
    return e.message;
  };
  t.regex(
    refusal(
      nodeModel(
        'TopK',
        [
          { name: 'x', elem: 'float', dims: [5, 3] },
          { name: 'k', elem: 'int64', dims: [1] },
        ],
        [
          { name: 'v', elem: 'float' },
          { name: 'i', elem: 'int64' },
        ],
        [],
        11,
      ),
    ),
    /TopK.*k \(input 1\) is computed at run time/,
  );
  t.regex(
    refusal(nodeModel('NonZero', [{ name: 'x', elem: 'float', dims: [3] }], [{ name: 'y', elem: 'int64' }])),
    /NonZero: its output size depends on the data/,
  );
  // mul over more index rows than Kiln unrolls
  const big: Port[] = [
    { name: 'x', elem: 'float', dims: [100] },
    { name: 'i', elem: 'int64', dims: [65, 1] },
    { name: 'u', elem: 'float', dims: [65] },
  ];
  t.regex(
    refusal(nodeModel('ScatterND', big, [{ name: 'y', elem: 'float', dims: [100] }], [attrStr('reduction', 'mul')])),
    /reduction mul over 65 index rows/,
  );
});

test('Unique, sorted and in first-occurrence order, over elements and over rows along an axis', async (t) => {
  const outs = (y: number[], n: number, N: number): Port[] => [
    { name: 'y', elem: 'float', dims: y },
    { name: 'indices', elem: 'int64', dims: [n] },
    { name: 'inverse', elem: 'int64', dims: [N] },
    { name: 'counts', elem: 'int64', dims: [n] },
  ];
  const flat: Port[] = [{ name: 'x', elem: 'float', dims: [2, 4] }];
  const x = Float32Array.from([3, -1, 3, 0.5, -1, 7, 3, 0.5]);
  for (const sorted of [0, 1])
    await expectSameAsOrt(t, nodeModel('Unique', flat, outs([4], 4, 8), [attrInt('sorted', sorted)], 11), flat, [[x]]);
  // rows along axis 1 of [2, 4, 2]: rows 0 and 2 equal, rows 1 and 3 differ only in their last component
  const rows: Port[] = [{ name: 'x', elem: 'float', dims: [2, 4, 2] }];
  const r = Float32Array.from([1, 2, 5, 0, 1, 2, 5, 1, 3, 4, 3, 4, 3, 4, -2, 4]);
  for (const sorted of [0, 1])
    await expectSameAsOrt(
      t,
      nodeModel('Unique', rows, outs([2, 3, 2], 3, 4), [attrInt('axis', 1), attrInt('sorted', sorted)], 11),
      rows,
      [[r]],
    );
  const e = t.throws(() => convertOnnxBytes(nodeModel('Unique', flat, [{ name: 'y', elem: 'float' }], [], 11)));
  t.regex(e.message, /Unique: the number of unique values depends on the data/);
});

test('past 4-D: GatherElements with run-time indices, Equal and Where broadcasting a constant (NLL loss graphs)', async (t) => {
  const ge: Port[] = [
    { name: 'x', elem: 'float', dims: [2, 3, 2, 2, 2] },
    { name: 'i', elem: 'int64', dims: [2, 1, 2, 2, 2] },
  ];
  const idx = i64([0, 1, 2, -1, -3, 0, 1, 2, 2, 2, -2, 0, 1, 1, 0, 0]);
  await expectSameAsOrt(
    t,
    nodeModel('GatherElements', ge, [{ name: 'y', elem: 'float', dims: [2, 1, 2, 2, 2] }], [attrInt('axis', 1)]),
    ge,
    [[floats(48, 19), idx]],
  );
  const eq: Port[] = [
    { name: 'a', elem: 'int64', dims: [2, 1, 2, 2, 2] },
    { name: 'b', elem: 'int64', dims: [1, 1, 1, 1, 1], init: [2] },
  ];
  await expectSameAsOrt(t, nodeModel('Equal', eq, [{ name: 'y', elem: 'bool', dims: [2, 1, 2, 2, 2] }]), eq, [[idx]]);
  // the condition computed, a value constant: the constant keeps the values' type
  const wh: Port[] = [
    { name: 'c', elem: 'bool', dims: [2, 1, 2, 2, 2] },
    { name: 'x', elem: 'float', dims: [1, 1, 1, 1, 1], init: [0.5] },
    { name: 'y', elem: 'float', dims: [2, 1, 2, 2, 2] },
  ];
  await expectSameAsOrt(t, nodeModel('Where', wh, [{ name: 'z', elem: 'float', dims: [2, 1, 2, 2, 2] }]), wh, [
    [Uint8Array.from(Array.from(idx, (v) => (v > 0n ? 1 : 0))), floats(16, 20)],
  ]);
});

withNodeData('ONNX node tests of the index ops and Unique all match', async (t) => {
  // 4 Gather, 3 GatherElements, 3 GatherND, 3 ScatterND, 4 ScatterElements, 2 Scatter, 4 OneHot, 3 TopK,
  // 2 ReverseSequence, 1 NonZero, 4 Compress, 5 Unique
  await nodeTestsMatch(t, /^test_(gather|gathernd|scatter|onehot|top_k|reversesequence|nonzero|compress|unique)/, 38);
});

withNodeData(
  "Kiln's interpreter runs the converted node tests of the index ops (Gather's int64 indices included) and computes their expected outputs",
  (t) => {
    const root = `${DEFAULT_DATA}/node`;
    const names = readdirSync(root).filter((n) =>
      /^test_(gather|scatter|onehot|top_k|reversesequence|nonzero|compress|unique)/.test(n),
    );
    t.is(names.length, 38);
    for (const name of names) {
      const set = join(root, name, 'test_data_set_0');
      const files = readdirSync(set).sort();
      const read = (f: string) => {
        const h = tensorFromOnnx(decodeOnnxTensor(readFileSync(join(set, f)), f), f);
        return { ...h, data: Uint8Array.from(h.data) };
      };
      const ins = files.filter((f) => f.startsWith('input_')).map(read);
      const outs = files.filter((f) => f.startsWith('output_')).map(read);
      const model = convertModel(join(root, name, 'model.onnx'), {}).model;
      const got = new Interpreter(model).run(ins.map((h) => typedView(h.dtype, h.data) as AnyTypedArray)).outputs;
      outs.forEach((o, k) => {
        const want = Array.from(constOf(o, name).v);
        const g = Array.from(got[k]!.data as ArrayLike<number | bigint>, Number);
        t.true(
          g.length === want.length && g.every((x, i) => Math.abs(x - want[i]!) <= 1e-4 + 1e-3 * Math.abs(want[i]!)),
          `${name} output ${k}: ${g.join()} vs ${want.join()}`,
        );
      });
    }
  },
);
