import test from 'ava';

import { isKilnError } from '../../shared/common/errors.js';
import { DEFAULT_DATA, runConformance } from '../../scripts/onnx-conformance.js';
import { withNodeData } from './helpers/conformance.js';
import {
  bothRuntimes,
  convertOnnx,
  onnxGraph,
  rng,
  worstError,
  type GraphTensor,
  type Init,
  type OnnxNodeSpec,
} from './helpers/onnx-graph.js';

/**
 * ONNX's explicit quantization ops composed from float builtins (shared/toolchain/loaders/onnx/ops/quantize-linear.ts),
 * checked against onnxruntime on models built here: per-tensor and per-axis, constant and run-time parameters,
 * uint8/int8/int32, rounding ties (half to even) and saturation.
 */

type In = GraphTensor & { values: number[] };

interface Case {
  title: string;
  node: OnnxNodeSpec;
  /** Nodes before `node`. */
  before?: OnnxNodeSpec[];
  inputs: In[];
  inits?: Init[];
  outputs: GraphTensor[];
  opset?: number;
  /** Builtins the conversion must contain. */
  uses: string[];
}

const r = rng(11);
const ints = (n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, () => Math.floor(lo + (r() + 0.5) * (hi - lo + 1)));
const floats = (n: number, scale: number): number[] => Array.from({ length: n }, () => r() * scale);
// x / 0.5 lands on .5 ties, both signs, and past both ends of the int8/uint8 ranges
const TIES = [0.25, 0.75, 1.25, -0.25, -0.75, -1.25, 200, -200, 0, 3.3, -7.9, 63.75];

const CASES: Case[] = [
  {
    title: 'QuantizeLinear to int8 per channel (constant scales and zero points), ties round to even',
    node: { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], attrs: { axis: 1 } },
    inputs: [{ name: 'x', type: 'float32', dims: [1, 3, 2, 2], values: TIES }],
    inits: [
      { name: 's', type: 'float32', dims: [3], values: [0.5, 0.25, 2] },
      { name: 'z', type: 'int8', dims: [3], values: [0, -3, 5] },
    ],
    outputs: [{ name: 'y', type: 'int8', dims: [1, 3, 2, 2] }],
    uses: ['ROUND', 'CAST'],
  },
  {
    title: 'QuantizeLinear per channel of a convolution output (kept channels-last inside the converted model)',
    before: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['c'] }],
    node: { op: 'QuantizeLinear', inputs: ['c', 's', 'z'], outputs: ['y'], attrs: { axis: 1 } },
    inputs: [{ name: 'x', type: 'float32', dims: [1, 2, 3, 3], values: floats(18, 8) }],
    inits: [
      { name: 'w', type: 'float32', dims: [3, 2, 1, 1], values: [1, 0.5, -2, 0.25, 0.75, 3] },
      { name: 's', type: 'float32', dims: [3], values: [0.05, 0.1, 0.07] },
      { name: 'z', type: 'uint8', dims: [3], values: [128, 10, 250] },
    ],
    outputs: [{ name: 'y', type: 'uint8', dims: [1, 3, 3, 3] }],
    uses: ['CONV_2D', 'ROUND'],
  },
  {
    title: 'QuantizeLinear to uint8 with scale and zero point fed at run time',
    node: { op: 'QuantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'] },
    inputs: [
      { name: 'x', type: 'float32', dims: [12], values: TIES },
      { name: 's', type: 'float32', dims: [], values: [0.5] },
      { name: 'z', type: 'uint8', dims: [], values: [128] },
    ],
    outputs: [{ name: 'y', type: 'uint8', dims: [12] }],
    uses: ['ROUND', 'CAST'],
  },
  {
    title: 'DequantizeLinear of int8 along axis 0',
    node: { op: 'DequantizeLinear', inputs: ['x', 's', 'z'], outputs: ['y'], attrs: { axis: 0 } },
    inputs: [{ name: 'x', type: 'int8', dims: [3, 4], values: ints(12, -128, 127) }],
    inits: [
      { name: 's', type: 'float32', dims: [3], values: [0.1, 0.02, 3] },
      { name: 'z', type: 'int8', dims: [3], values: [1, -5, 0] },
    ],
    outputs: [{ name: 'y', type: 'float32', dims: [3, 4] }],
    uses: ['CAST'],
  },
  {
    title: 'DequantizeLinear of int32 (no zero point)',
    node: { op: 'DequantizeLinear', inputs: ['x', 's'], outputs: ['y'] },
    inputs: [
      { name: 'x', type: 'int32', dims: [6], values: [0, 1, -1, 100000, -123456, 7] },
      { name: 's', type: 'float32', dims: [], values: [0.003] },
    ],
    outputs: [{ name: 'y', type: 'float32', dims: [6] }],
    uses: ['CAST'],
  },
  {
    title: 'DynamicQuantizeLinear',
    node: { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['y', 'ys', 'yz'] },
    inputs: [{ name: 'x', type: 'float32', dims: [3, 5], values: floats(15, 9).map((v) => v + 1.5) }],
    outputs: [
      { name: 'y', type: 'uint8', dims: [3, 5] },
      { name: 'ys', type: 'float32', dims: [] },
      { name: 'yz', type: 'uint8', dims: [] },
    ],
    opset: 11,
    uses: ['REDUCE_MIN', 'REDUCE_MAX', 'ROUND'],
  },
  {
    title: 'MatMulInteger uint8 × uint8 with a per-column zero point for B',
    node: { op: 'MatMulInteger', inputs: ['a', 'b', 'az', 'bz'], outputs: ['y'] },
    inputs: [
      { name: 'a', type: 'uint8', dims: [2, 3, 40], values: ints(240, 0, 255) },
      { name: 'b', type: 'uint8', dims: [40, 4], values: ints(160, 0, 255) },
    ],
    inits: [
      { name: 'az', type: 'uint8', dims: [], values: [131] },
      { name: 'bz', type: 'uint8', dims: [4], values: [0, 255, 17, 128] },
    ],
    outputs: [{ name: 'y', type: 'int32', dims: [2, 3, 4] }],
    opset: 10,
    uses: ['BATCH_MATMUL', 'CAST'],
  },
  {
    title: 'QLinearMatMul uint8 with constant parameters',
    node: {
      op: 'QLinearMatMul',
      inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'],
      outputs: ['y'],
    },
    inputs: [
      { name: 'a', type: 'uint8', dims: [3, 16], values: ints(48, 0, 255) },
      { name: 'b', type: 'uint8', dims: [16, 5], values: ints(80, 0, 255) },
    ],
    inits: [
      { name: 'as', type: 'float32', dims: [], values: [0.0173] },
      { name: 'az', type: 'uint8', dims: [], values: [120] },
      { name: 'bs', type: 'float32', dims: [], values: [0.0051] },
      { name: 'bz', type: 'uint8', dims: [], values: [133] },
      { name: 'ys', type: 'float32', dims: [], values: [0.0311] },
      { name: 'yz', type: 'uint8', dims: [], values: [119] },
    ],
    outputs: [{ name: 'y', type: 'uint8', dims: [3, 5] }],
    opset: 10,
    uses: ['BATCH_MATMUL', 'ROUND'],
  },
  {
    title: 'ConvInteger with padding and strides',
    node: {
      op: 'ConvInteger',
      inputs: ['x', 'w', 'xz', 'wz'],
      outputs: ['y'],
      attrs: { pads: [1, 0, 1, 2], strides: [2, 1] },
    },
    inputs: [{ name: 'x', type: 'uint8', dims: [1, 3, 6, 5], values: ints(90, 0, 255) }],
    inits: [
      { name: 'w', type: 'uint8', dims: [4, 3, 3, 3], values: ints(108, 0, 255) },
      { name: 'xz', type: 'uint8', dims: [], values: [100] },
      { name: 'wz', type: 'uint8', dims: [], values: [127] },
    ],
    outputs: [{ name: 'y', type: 'int32', dims: [1, 4, 4, 6] }],
    opset: 10,
    uses: ['CONV_2D', 'CAST'],
  },
  {
    title: 'QLinearConv with per-channel weight scales and an int32 bias',
    node: {
      op: 'QLinearConv',
      inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'bias'],
      outputs: ['y'],
      attrs: { pads: [1, 1, 1, 1] },
    },
    inputs: [{ name: 'x', type: 'uint8', dims: [1, 2, 5, 5], values: ints(50, 0, 255) }],
    inits: [
      { name: 'xs', type: 'float32', dims: [], values: [0.021] },
      { name: 'xz', type: 'uint8', dims: [], values: [128] },
      { name: 'w', type: 'uint8', dims: [3, 2, 3, 3], values: ints(54, 0, 255) },
      { name: 'ws', type: 'float32', dims: [3], values: [0.004, 0.0071, 0.0029] },
      { name: 'wz', type: 'uint8', dims: [3], values: [128, 128, 128] },
      { name: 'ys', type: 'float32', dims: [], values: [0.05] },
      { name: 'yz', type: 'uint8', dims: [], values: [110] },
      { name: 'bias', type: 'int32', dims: [3], values: [1000, -2500, 37] },
    ],
    outputs: [{ name: 'y', type: 'uint8', dims: [1, 3, 5, 5] }],
    opset: 10,
    uses: ['CONV_2D', 'ROUND'],
  },
];

for (const k of CASES)
  test(`${k.title} converts to builtins and matches onnxruntime`, async (t) => {
    const bytes = onnxGraph({
      nodes: [...(k.before ?? []), k.node],
      inputs: k.inputs,
      outputs: k.outputs,
      inits: k.inits ?? [],
      opset: k.opset ?? 13,
    });
    const ops = new Set(convertOnnx(bytes).graph.ops.map((o) => o.type));
    for (const op of k.uses) t.true(ops.has(op), `uses ${op}`);
    t.false(ops.has('QUANTIZE') || ops.has('DEQUANTIZE') || ops.has('CUSTOM'));
    const { want, got } = await bothRuntimes(bytes, k.inputs, k.outputs);
    k.outputs.forEach((o, i) => {
      if (o.type === 'float32')
        t.true(worstError(got[i]!, want[i]!, 1e-6) <= 1e-6, `${o.name}: ${got[i]} vs ${want[i]}`);
      else t.deepEqual(Array.from(got[i]!), Array.from(want[i]!), o.name);
    });
  });

test('integer sums past float32 exactness (more than 258 products per output) are refused, naming the count', (t) => {
  const bytes = onnxGraph({
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['y'] }],
    inputs: [
      { name: 'a', type: 'uint8', dims: [2, 300] },
      { name: 'b', type: 'uint8', dims: [300, 2] },
    ],
    outputs: [{ name: 'y', type: 'int32', dims: [2, 2] }],
    opset: 10,
  });
  const e = t.throws(() => convertOnnx(bytes));
  t.true(isKilnError(e));
  t.regex(e.message, /MatMulInteger.*sums of 300 integer products/);
});

test('a scale count that does not match the axis is refused, naming both', (t) => {
  const bytes = onnxGraph({
    nodes: [{ op: 'QuantizeLinear', inputs: ['x', 's'], outputs: ['y'], attrs: { axis: 1 } }],
    inputs: [{ name: 'x', type: 'float32', dims: [2, 3] }],
    inits: [{ name: 's', type: 'float32', dims: [2], values: [1, 2] }],
    outputs: [{ name: 'y', type: 'uint8', dims: [2, 3] }],
    opset: 13,
  });
  const e = t.throws(() => convertOnnx(bytes));
  t.true(isKilnError(e));
  t.regex(e.message, /QuantizeLinear.*2 scales or zero points along axis 1, which has 3/);
});

withNodeData(
  'ONNX node tests: every (Dynamic)QuantizeLinear, DequantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv case matches',
  async (t) => {
    const results = await runConformance(DEFAULT_DATA, ['node'], /quantizelinear|qlinear|integer/);
    t.is(results.length, 17);
    t.deepEqual(
      results.filter((x) => x.status !== 'matched').map((x) => `${x.name}: ${x.status} ${x.reason ?? ''}`),
      [],
    );
  },
);
