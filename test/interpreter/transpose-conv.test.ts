import test from 'ava';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import type { DType } from '../../shared/toolchain/ir/dtype.js';
import { KilnError } from '../../shared/common/errors.js';
import { Interpreter, supportedOps } from '../../shared/toolchain/interpreter/index.js';
import { ActivationFunctionType, Padding } from '../../shared/toolchain/tflite/schema.js';
import { rng } from '../helpers/models.js';
import { expectSameAsTflite } from './oracle-compare.js';

// TRANSPOSE_CONV single-op models against the TFLite runtime. Versions as TFLite's op versioning assigns them:
// 1 float32 and uint8 without bias, 2 int8 without bias, 3 whenever a bias (4th input) is present.
const Q = ModelBuilder.quant;

const ints = (n: number, lo: number, hi: number, seed = 21): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
};
const floats = (n: number, seed = 22): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() * 2 - 1);
};

interface TcCase {
  name: string;
  dtype: DType;
  input: number[];
  filter: [number, number];
  outC: number;
  outHW: [number, number];
  stride: [number, number];
  padding: 'SAME' | 'VALID';
  bias: boolean;
  perChannel?: boolean;
  version?: number;
}

const cases: TcCase[] = [
  {
    name: 'float32 SAME stride 2',
    dtype: 'float32',
    input: [1, 4, 4, 3],
    filter: [3, 3],
    outC: 5,
    outHW: [8, 8],
    stride: [2, 2],
    padding: 'SAME',
    bias: false,
  },
  {
    name: 'float32 VALID stride 2 with bias',
    dtype: 'float32',
    input: [1, 4, 5, 3],
    filter: [3, 3],
    outC: 4,
    outHW: [9, 11],
    stride: [2, 2],
    padding: 'VALID',
    bias: true,
  },
  {
    name: 'float32 SAME stride 1x2 even kernel, batch 2',
    dtype: 'float32',
    input: [2, 3, 3, 2],
    filter: [4, 2],
    outC: 3,
    outHW: [3, 6],
    stride: [1, 2],
    padding: 'SAME',
    bias: true,
  },
  {
    name: 'uint8 per-tensor SAME stride 2',
    dtype: 'uint8',
    input: [1, 4, 4, 3],
    filter: [3, 3],
    outC: 4,
    outHW: [8, 8],
    stride: [2, 2],
    padding: 'SAME',
    bias: false,
  },
  {
    name: 'uint8 per-tensor VALID stride 2 with bias',
    dtype: 'uint8',
    input: [1, 3, 4, 5],
    filter: [2, 2],
    outC: 3,
    outHW: [6, 8],
    stride: [2, 2],
    padding: 'VALID',
    bias: true,
  },
  {
    name: 'int8 per-channel SAME stride 2',
    dtype: 'int8',
    input: [1, 4, 4, 6],
    filter: [3, 3],
    outC: 4,
    outHW: [8, 8],
    stride: [2, 2],
    padding: 'SAME',
    bias: false,
    perChannel: true,
  },
  {
    name: 'int8 per-channel VALID stride 3 with bias, batch 2',
    dtype: 'int8',
    input: [2, 3, 3, 4],
    filter: [3, 3],
    outC: 5,
    outHW: [9, 9],
    stride: [3, 3],
    padding: 'VALID',
    bias: true,
    perChannel: true,
  },
  {
    name: 'int8 per-tensor SAME stride 1 with bias',
    dtype: 'int8',
    input: [1, 5, 5, 3],
    filter: [3, 3],
    outC: 2,
    outHW: [5, 5],
    stride: [1, 1],
    padding: 'SAME',
    bias: true,
  },
];

const versionOf = (c: TcCase): number => (c.bias ? 3 : c.dtype === 'int8' ? 2 : 1);

for (const c of cases) {
  test(`TRANSPOSE_CONV ${c.name}`, async (t) => {
    const b = new ModelBuilder();
    const [kH, kW] = c.filter;
    const inC = c.input[3]!;
    const nW = c.outC * kH * kW * inC;
    const outShape = [c.input[0]!, c.outHW[0], c.outHW[1], c.outC];
    const shape = b.constant('output_shape', 'int32', [4], outShape);
    let x: number;
    let w: number;
    let bias = -1;
    let out: { dtype: DType; shape: number[]; quant?: ReturnType<typeof Q> } = { dtype: c.dtype, shape: outShape };
    if (c.dtype === 'float32') {
      x = b.input('x', c.input, 'float32');
      w = b.constant('w', 'float32', [c.outC, kH, kW, inC], floats(nW));
      if (c.bias) bias = b.constant('bias', 'float32', [c.outC], floats(c.outC, 5));
    } else if (c.dtype === 'uint8') {
      x = b.input('x', c.input, 'uint8', Q(0.04, 118));
      w = b.constant('w', 'uint8', [c.outC, kH, kW, inC], ints(nW, 0, 255), Q(0.015, 127));
      if (c.bias) bias = b.constant('bias', 'int32', [c.outC], ints(c.outC, -2000, 2000), Q(0.04 * 0.015, 0));
      out = { ...out, quant: Q(0.07, 131) };
    } else {
      x = b.input('x', c.input, 'int8', Q(0.05, -7));
      const scales = c.perChannel ? Array.from({ length: c.outC }, (_, i) => 0.006 * (1 + 0.41 * i)) : [0.009];
      w = b.constant('w', 'int8', [c.outC, kH, kW, inC], ints(nW, -127, 127), Q(scales, 0, 0));
      if (c.bias)
        bias = b.constant(
          'bias',
          'int32',
          [c.outC],
          ints(c.outC, -3000, 3000),
          Q(
            scales.map((s) => s * 0.05),
            0,
            0,
          ),
        );
      out = { ...out, quant: Q(0.12, 4) };
    }
    const inputs = c.bias || versionOf(c) === 3 ? [shape, w, x, bias] : [shape, w, x];
    const y = b.op(
      'TRANSPOSE_CONV',
      inputs,
      { padding: Padding[c.padding], strideH: c.stride[0], strideW: c.stride[1] },
      { outputs: [out], version: versionOf(c) },
    )[0]!;
    b.output(y);
    await expectSameAsTflite(t, b.build(), { seeds: [1, 2, 3] });
  });
}

test('TRANSPOSE_CONV is listed as supported', (t) => {
  t.true(supportedOps().includes('TRANSPOSE_CONV'));
});

test('TRANSPOSE_CONV with a fused activation (not in TFLite 2.9) is refused', (t) => {
  const b = new ModelBuilder();
  const shape = b.constant('output_shape', 'int32', [4], [1, 4, 4, 2]);
  const w = b.constant('w', 'float32', [2, 3, 3, 1], floats(18));
  const x = b.input('x', [1, 2, 2, 1], 'float32');
  b.output(
    b.op(
      'TRANSPOSE_CONV',
      [shape, w, x],
      { padding: Padding.SAME, strideH: 2, strideW: 2, fusedActivationFunction: ActivationFunctionType.RELU },
      { outputs: [{ dtype: 'float32', shape: [1, 4, 4, 2] }] },
    )[0]!,
  );
  const e = t.throws(() => new Interpreter(b.build()), { instanceOf: KilnError });
  t.regex(e.message, /TRANSPOSE_CONV.*fused activation 1/);
});
