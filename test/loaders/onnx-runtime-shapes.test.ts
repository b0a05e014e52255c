import test from 'ava';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { propagateStaticShapes } from '../../shared/toolchain/loaders/onnx/shape-propagation.js';
import type { OnnxNode } from '../../shared/toolchain/loaders/onnx/types.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { nodeCase } from './helpers/onnx-node-case.js';
import {
  attribute,
  convertOnnxBytes,
  graphModel,
  initializer,
  valueInfo,
  type OnnxElemName,
} from './helpers/onnx-proto-parts.js';

/**
 * ONNX ops whose amounts come at run time while the model declares the result's static shape: window functions
 * (HannWindow, …) of a run-time size, Range inside a chain of element-wise math (its length learnt from the declared
 * output), Pad in edge and wrap modes by run-time pads, Resize tf_crop_and_resize with a run-time roi, MaxUnpool, and
 * the MaxPool Indices output MaxUnpool reads.
 * Models built here run in onnxruntime and, converted, in the TFLite runtime on run-time values other than ONNX's
 * test data; ONNX's own node tests (Debian's libonnx-testdata; skipped when absent) match by name.
 */

// ---- the shape propagation, as a pure function ----

const n = (opType: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({
  opType,
  input,
  output,
  attribute,
});
const intsAttr = (name: string, ints: number[]): OnnxNode['attribute'][number] => ({
  name,
  ints,
  floats: [],
  strings: [],
  tensors: [],
  graphs: [],
});

test('a declared output shape reaches a Range back through element-wise math with run-time scalars', (t) => {
  // window = Cast(0.5 − 0.5·cos(Range(0, n, 1) · (2π / n))), declared [10]; n is a run-time scalar
  const nodes = [
    n('Cast', ['x'], ['size']),
    n('Div', ['tau', 'size'], ['step']),
    n('Range', ['zero', 'size', 'one'], ['r']),
    n('Mul', ['r', 'step'], ['angle']),
    n('Cos', ['angle'], ['cos']),
    n('Mul', ['half', 'cos'], ['scaled']),
    n('Sub', ['half', 'scaled'], ['w']),
    n('Cast', ['w'], ['y']),
  ];
  const fixed = new Map([
    ['x', []],
    ['tau', []],
    ['zero', []],
    ['one', []],
    ['half', []],
    ['y', [10]],
  ]);
  const s = propagateStaticShapes(nodes, fixed);
  t.deepEqual(s.get('r'), [10]);
  t.deepEqual(s.get('angle'), [10]);
  t.deepEqual(s.get('step'), []);
  t.deepEqual(s.get('size'), []);
});

test('shape propagation broadcasts known shapes forward and reads Constant nodes', (t) => {
  const nodes = [
    n('Constant', [], ['k'], [intsAttr('value_ints', [1, 2, 3])]),
    n('Add', ['a', 'k'], ['s']),
    n('Relu', ['s'], ['y']),
  ];
  const s = propagateStaticShapes(nodes, new Map([['a', [4, 1]]]));
  t.deepEqual(s.get('k'), [3]);
  t.deepEqual(s.get('y'), [4, 3]);
});

test('shape propagation learns nothing it cannot be sure of', (t) => {
  // two unknown operands of a broadcast: either may carry the output's shape
  t.is(propagateStaticShapes([n('Add', ['a', 'b'], ['y'])], new Map([['y', [3]]])).get('a'), undefined);
  // a non-scalar operand of unknown rank relation: [1] may or may not add a dimension
  t.is(
    propagateStaticShapes(
      [n('Mul', ['a', 'b'], ['y'])],
      new Map([
        ['b', [1]],
        ['y', [3]],
      ]),
    ).get('a'),
    undefined,
  );
  // opset-6 axis broadcasting is not numpy's
  t.is(
    propagateStaticShapes(
      [n('Add', ['a', 'b'], ['y'], [{ ...intsAttr('broadcast', []), i: 1 }])],
      new Map([
        ['b', []],
        ['y', [3]],
      ]),
    ).get('a'),
    undefined,
  );
  // two outputs of one class declared differently: the class has no shape
  const s = propagateStaticShapes(
    [n('Neg', ['a'], ['y1']), n('Abs', ['a'], ['y2'])],
    new Map([
      ['y1', [3]],
      ['y2', [4]],
    ]),
  );
  t.is(s.get('a'), undefined);
  t.is(s.get('y1'), undefined);
});

// ---- models in onnxruntime and, converted, in TFLite ----

interface Feed {
  name: string;
  type: 'float32' | 'int32' | 'int64';
  dims: number[];
  values: number[];
}

const typed = (f: Feed): Float32Array | Int32Array | BigInt64Array =>
  f.type === 'float32'
    ? Float32Array.from(f.values)
    : f.type === 'int32'
      ? Int32Array.from(f.values)
      : BigInt64Array.from(f.values.map(BigInt));

/** Runs `bytes` in onnxruntime (or takes `expected`) and converted in TFLite; output 0 of both as numbers. */
async function bothRuntimes(
  bytes: Uint8Array,
  feeds: Feed[],
  outType: 'float32' | 'int32' = 'float32',
): Promise<{ want: number[]; got: number[]; ops: string[] }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const f of feeds) inputs[f.name] = new ort.Tensor(f.type, typed(f), f.dims);
  const res = await session.run(inputs);
  const want = Array.from(res[session.outputNames[0]!]!.data as Float32Array | Int32Array);
  const conv = convertOnnxBytes(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  try {
    const outs = await rt.run(
      feeds.map((f) => {
        const a = typed(f);
        return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      }),
    );
    const b = outs[0]!.bytes.slice();
    const got = Array.from(outType === 'float32' ? new Float32Array(b.buffer) : new Int32Array(b.buffer));
    return { want, got, ops: conv.model.graph.ops.map((o) => o.type) };
  } finally {
    rt.close();
  }
}

function close(
  t: { true: (v: boolean, m?: string) => void; is: (a: unknown, b: unknown) => void },
  got: number[],
  want: number[],
): void {
  t.is(got.length, want.length);
  const worst = Math.max(0, ...want.map((w, i) => Math.abs(got[i]! - w) - 1e-4 * Math.abs(w)));
  t.true(worst <= 1e-4, `worst error ${worst}: got ${got.join(', ')} want ${want.join(', ')}`);
}

const node = (opType: string, input: string[], output: string[], attrs: object[] = []): object => ({
  opType,
  name: output[0],
  input,
  output,
  attribute: attrs,
});
const io = (name: string, elem: OnnxElemName, dims: number[]): object => valueInfo(name, elem, dims);

test('a Hann window over a run-time length converts: Range takes the declared output length', async (t) => {
  const bytes = graphModel({
    opset: 17,
    nodes: [
      node('Cast', ['x'], ['size'], [attribute.i('to', 1)]),
      node('Range', ['zero', 'size', 'one'], ['r']),
      node('Div', ['tau', 'size'], ['step']),
      node('Mul', ['r', 'step'], ['angle']),
      node('Cos', ['angle'], ['cos']),
      node('Mul', ['half', 'cos'], ['scaled']),
      node('Sub', ['half', 'scaled'], ['y']),
    ],
    initializers: [
      initializer('zero', 'float32', [], [0]),
      initializer('one', 'float32', [], [1]),
      initializer('half', 'float32', [], [0.5]),
      initializer('tau', 'float32', [], [2 * Math.PI]),
    ],
    inputs: [io('x', 'int32', [])],
    outputs: [io('y', 'float32', [7])],
  });
  const { want, got, ops } = await bothRuntimes(bytes, [{ name: 'x', type: 'int32', dims: [], values: [7] }]);
  t.true(ops.includes('RANGE'));
  close(t, got, want);
});

test('Range with run-time start and step: the values follow the run-time bounds', async (t) => {
  // r = Range(s, s + 6·d, d), y = −2·r: six values whatever s and d
  const bytes = graphModel({
    opset: 13,
    nodes: [
      node('Mul', ['d', 'six'], ['span']),
      node('Add', ['s', 'span'], ['limit']),
      node('Range', ['s', 'limit', 'd'], ['r']),
      node('Mul', ['r', 'two'], ['r2']),
      node('Neg', ['r2'], ['y']),
    ],
    initializers: [initializer('six', 'float32', [], [6]), initializer('two', 'float32', [], [2])],
    inputs: [io('s', 'float32', []), io('d', 'float32', [])],
    outputs: [io('y', 'float32', [6])],
  });
  for (const [s, d] of [
    [1.5, 0.25],
    [-3, 2],
  ]) {
    const { want, got } = await bothRuntimes(bytes, [
      { name: 's', type: 'float32', dims: [], values: [s!] },
      { name: 'd', type: 'float32', dims: [], values: [d!] },
    ]);
    close(t, got, want);
  }
});

for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow'])
  for (const periodic of [0, 1])
    test(`${op} (periodic=${periodic}) of a run-time size and of a constant one matches onnxruntime`, async (t) => {
      const model = (constant: boolean): Uint8Array =>
        graphModel({
          opset: 17,
          nodes: [node(op, ['n'], ['y'], [attribute.i('periodic', periodic)])],
          initializers: constant ? [initializer('n', 'int64', [], [9])] : [],
          inputs: constant ? [] : [io('n', 'int64', [])],
          outputs: [io('y', 'float32', [9])],
        });
      const run = await bothRuntimes(model(false), [{ name: 'n', type: 'int64', dims: [], values: [9] }]);
      t.true(run.ops.includes('COS'));
      close(t, run.got, run.want);
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(model(true));
      const want = Array.from((await session.run({}))['y']!.data as Float32Array);
      const conv = convertOnnxBytes(model(true));
      t.false(
        conv.model.graph.ops.some((o) => o.type === 'COS'),
        'a constant table',
      );
      close(t, run.got, want);
    });

function padModel(mode: string, x: number[], out: number[], opset = 13, conv = false): Uint8Array {
  const c = x[1]!;
  return graphModel({
    opset,
    nodes: [
      ...(conv ? [node('Conv', ['x', 'w'], ['xc'], [attribute.ints('kernel_shape', [1, 1])])] : []),
      node('Pad', [conv ? 'xc' : 'x', 'pads'], ['y'], [attribute.s('mode', mode)]),
    ],
    initializers: conv
      ? [
          initializer(
            'w',
            'float32',
            [c, c, 1, 1],
            Array.from({ length: c * c }, (_v, i) => (i % (c + 1) === 0 ? 1 : 0.5)),
          ),
        ]
      : [],
    inputs: [io('x', 'float32', x), io('pads', 'int64', [8])],
    outputs: [io('y', 'float32', out)],
  });
}

const ramp = (count: number): number[] => Array.from({ length: count }, (_v, i) => ((i * 7) % 11) - 5 + i / 10);

for (const [mode, opset] of [
  ['edge', 13],
  ['wrap', 19],
] as const) {
  test(`Pad ${mode} by run-time pads gathers each axis at the indices the pads give`, async (t) => {
    const x = { name: 'x', type: 'float32' as const, dims: [1, 2, 3, 4], values: ramp(24) };
    // the same output shape [1, 3, 6, 7] from different pads, cropping by a negative pad included
    for (const pads of [
      [0, 1, 2, 0, 0, 0, 1, 3],
      [0, 0, 1, 3, 0, 1, 2, 0],
      [0, 1, 3, -1, 0, 0, 0, 4],
    ]) {
      const { want, got, ops } = await bothRuntimes(padModel(mode, [1, 2, 3, 4], [1, 3, 6, 7], opset), [
        x,
        { name: 'pads', type: 'int64', dims: [8], values: pads },
      ]);
      t.true(ops.includes('GATHER'));
      close(t, got, want);
    }
  });
}

test('Pad edge by run-time pads for the axes input 3 names (opset 18) pads those axes only', async (t) => {
  const bytes = graphModel({
    opset: 18,
    nodes: [node('Pad', ['x', 'pads', '', 'axes'], ['y'], [attribute.s('mode', 'edge')])],
    initializers: [initializer('axes', 'int64', [2], [-1, 1])],
    inputs: [io('x', 'float32', [1, 2, 3, 4]), io('pads', 'int64', [4])],
    outputs: [io('y', 'float32', [1, 4, 3, 6])],
  });
  for (const pads of [
    [2, 1, 0, 1],
    [0, 0, 2, 2],
  ]) {
    const { want, got } = await bothRuntimes(bytes, [
      { name: 'x', type: 'float32', dims: [1, 2, 3, 4], values: ramp(24) },
      { name: 'pads', type: 'int64', dims: [4], values: pads },
    ]);
    close(t, got, want);
  }
});

test('Pad edge by run-time pads after a Conv (an NHWC tensor) pads the ONNX axes the pads name', async (t) => {
  const { want, got } = await bothRuntimes(padModel('edge', [1, 3, 4, 5], [1, 3, 7, 6], 13, true), [
    { name: 'x', type: 'float32', dims: [1, 3, 4, 5], values: ramp(60) },
    { name: 'pads', type: 'int64', dims: [8], values: [0, 0, 2, 1, 0, 0, 1, 0] },
  ]);
  close(t, got, want);
});

function cropModel(mode: string, x: number[], out: number[]): Uint8Array {
  return graphModel({
    opset: 13,
    nodes: [
      node(
        'Resize',
        ['x', 'roi', '', 'sizes'],
        ['y'],
        [
          attribute.s('coordinate_transformation_mode', 'tf_crop_and_resize'),
          attribute.s('mode', mode),
          attribute.f('extrapolation_value', -7),
        ],
      ),
    ],
    initializers: [initializer('sizes', 'int64', [4], out)],
    inputs: [io('x', 'float32', x), io('roi', 'float32', [8])],
    outputs: [io('y', 'float32', out)],
  });
}

const cropX = { name: 'x', type: 'float32' as const, dims: [1, 2, 5, 6], values: ramp(60) };
const roiFeed = (roi: number[]): Feed => ({ name: 'roi', type: 'float32', dims: [8], values: roi });

for (const mode of ['linear', 'nearest', 'cubic']) {
  test(`Resize tf_crop_and_resize (${mode}) with a run-time roi samples where the roi says`, async (t) => {
    const seen = new Set<string>();
    for (const roi of [
      [0, 0, 0.1, -0.2, 1, 1, 0.9, 1.3],
      [0, 0, 0.5, 0.25, 1, 1, 0.75, 0.6],
      [0, 0, -0.3, 0, 1, 1, 0.4, 1],
    ]) {
      const { want, got } = await bothRuntimes(cropModel(mode, [1, 2, 5, 6], [1, 2, 4, 3]), [cropX, roiFeed(roi)]);
      close(t, got, want);
      seen.add(got.join());
    }
    t.is(seen.size, 3, 'the roi changes the result');
  });
}

test('Resize tf_crop_and_resize crops the channels too when the run-time roi says so, as ONNX specifies', async (t) => {
  // onnxruntime resizes H and W only; ONNX's reference interpolates every axis: channels [0.5, 1] of 2 channels are
  // their mean and the second channel
  const conv = convertOnnxBytes(cropModel('linear', [1, 2, 5, 6], [1, 2, 4, 3]));
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  const run = async (roi: number[]): Promise<Float32Array> => {
    const [y] = await rt.run([typed(cropX), typed(roiFeed(roi))].map((a) => new Uint8Array(a.buffer)));
    return new Float32Array(y!.bytes.slice().buffer);
  };
  try {
    const whole = await run([0, 0, 0.1, -0.2, 1, 1, 0.9, 1.3]);
    const half = await run([0, 0.5, 0.1, -0.2, 1, 1, 0.9, 1.3]);
    const plane = 12;
    for (let i = 0; i < plane; i++) {
      const mean = (whole[i]! + whole[plane + i]!) / 2;
      // an extrapolated position stays the extrapolation value
      t.true(Math.abs(half[i]! - (whole[i] === -7 ? -7 : mean)) < 1e-5, `${i}: ${half[i]} vs ${mean}`);
      t.true(Math.abs(half[plane + i]! - whole[plane + i]!) < 1e-5);
    }
  } finally {
    rt.close();
  }
});

function unpoolModel(x: number[], kernel: number[], strides: number[], out: number[], outputShape?: number[]) {
  return graphModel({
    opset: 11,
    nodes: [
      node(
        'MaxUnpool',
        ['x', 'i', ...(outputShape ? ['shape'] : [])],
        ['y'],
        [attribute.ints('kernel_shape', kernel), attribute.ints('strides', strides)],
      ),
    ],
    initializers: outputShape ? [initializer('shape', 'int64', [outputShape.length], outputShape)] : [],
    inputs: [io('x', 'float32', x), io('i', 'int64', x)],
    outputs: [io('y', 'float32', out)],
  });
}

/** The flat offsets of a MaxPool's maxima (over [N, C, H, W] `shape`, `k`×`k` windows at stride `s`). */
function argmaxIndices(values: number[], shape: number[], k: number, s: number): { idx: number[]; max: number[] } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const oh = Math.floor((H - k) / s) + 1;
  const ow = Math.floor((W - k) / s) + 1;
  const idx: number[] = [];
  const max: number[] = [];
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -1;
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++) {
            const at = p * H * W + (i * s + a) * W + (j * s + b);
            if (best < 0 || values[at]! > values[best]!) best = at;
          }
        idx.push(best);
        max.push(values[best]!);
      }
  return { idx, max };
}

test('MaxUnpool puts the pooled values back at their flat offsets, as onnxruntime does', async (t) => {
  const src = ramp(2 * 3 * 4 * 6);
  const { idx, max } = argmaxIndices(src, [2, 3, 4, 6], 2, 2);
  for (const shape of [undefined, [2, 3, 4, 6]]) {
    const { want, got, ops } = await bothRuntimes(unpoolModel([2, 3, 2, 3], [2, 2], [2, 2], [2, 3, 4, 6], shape), [
      { name: 'x', type: 'float32', dims: [2, 3, 2, 3], values: max },
      { name: 'i', type: 'int64', dims: [2, 3, 2, 3], values: idx },
    ]);
    t.true(ops.includes('SCATTER_ND'));
    close(t, got, want);
  }
});

test('MaxUnpool with overlapping windows writes a maximum two windows share once', async (t) => {
  // 3×3 windows at stride 2 over a 5×5 plane whose largest value sits in the middle: all four windows pick it
  const src = ramp(25).map((v, i) => (i === 12 ? 100 : v));
  const { idx, max } = argmaxIndices(src, [1, 1, 5, 5], 3, 2);
  t.deepEqual(idx, [12, 12, 12, 12]);
  const { want, got } = await bothRuntimes(unpoolModel([1, 1, 2, 2], [3, 3], [2, 2], [1, 1, 5, 5]), [
    { name: 'x', type: 'float32', dims: [1, 1, 2, 2], values: max },
    { name: 'i', type: 'int64', dims: [1, 1, 2, 2], values: idx },
  ]);
  t.is(got[12], 100);
  close(t, got, want);
});

test('MaxUnpool to an output_shape larger than the attributes give pads at the end, as ONNX specifies', async (t) => {
  // ONNX's reference reads the offsets in the [1, 1, 4, 4] shape of the attributes and pads to [1, 1, 5, 6]
  const bytes = unpoolModel([1, 1, 2, 2], [2, 2], [2, 2], [1, 1, 5, 6], [1, 1, 5, 6]);
  const conv = convertOnnxBytes(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  try {
    const [y] = await rt.run([
      new Uint8Array(Float32Array.from([1, 2, 3, 4]).buffer),
      new Uint8Array(BigInt64Array.from([0n, 3n, 9n, 14n]).buffer),
    ]);
    const got = Array.from(new Float32Array(y!.bytes.slice().buffer));
    const want = new Array<number>(30).fill(0);
    // offsets 0, 3, 9, 14 of a 4-wide plane: (0,0), (0,3), (2,1), (3,2) of the 6-wide one
    want[0] = 1;
    want[3] = 2;
    want[2 * 6 + 1] = 3;
    want[3 * 6 + 2] = 4;
    t.deepEqual(got, want);
  } finally {
    rt.close();
  }
});

/** Runs a model with one float input in onnxruntime and, converted, in TFLite; every output as numbers. */
async function allOutputs(bytes: Uint8Array, x: Feed): Promise<{ want: number[][]; got: number[][] }> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const res = await session.run({ [x.name]: new ort.Tensor(x.type, typed(x), x.dims) });
  const want = session.outputNames.map((o) =>
    Array.from(res[o]!.data as Float32Array | BigInt64Array, (v: number | bigint) => Number(v)),
  );
  const conv = convertOnnxBytes(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(conv.model));
  try {
    const a = typed(x);
    const outs = await rt.run([new Uint8Array(a.buffer, a.byteOffset, a.byteLength)]);
    const got = outs.map((o, k) => {
      const b = o.bytes.slice().buffer;
      return conv.outputs[k]!.dtype === 'int64'
        ? Array.from(new BigInt64Array(b), Number)
        : Array.from(new Float32Array(b));
    });
    return { want, got };
  } finally {
    rt.close();
  }
}

const POOLS: [string, Record<string, number | number[]>, number[], number[]][] = [
  [
    '3×3 at stride 2, padded',
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    [2, 3, 7, 6],
    [2, 3, 4, 3],
  ],
  [
    '2×2, column-major offsets',
    { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 },
    [1, 2, 4, 6],
    [1, 2, 2, 3],
  ],
  ['ceil_mode', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, [1, 2, 5, 5], [1, 2, 3, 3]],
  ['dilated 2×2', { kernel_shape: [2, 2], dilations: [2, 2] }, [1, 1, 5, 6], [1, 1, 3, 4]],
];

for (const [what, attrs, x, y] of POOLS)
  test(`MaxPool's Indices output (${what}) matches onnxruntime, ties to the first in the window`, async (t) => {
    const bytes = graphModel({
      opset: 12,
      nodes: [
        node(
          'MaxPool',
          ['x'],
          ['y', 'i'],
          Object.entries(attrs).map(([k, v]) => (Array.isArray(v) ? attribute.ints(k, v) : attribute.i(k, v))),
        ),
      ],
      inputs: [io('x', 'float32', x)],
      outputs: [io('y', 'float32', y), io('i', 'int64', y)],
    });
    // coarse values: many windows hold their maximum twice
    const values = ramp(x.reduce((p, q) => p * q, 1)).map((v) => Math.round(v / 3));
    const { want, got } = await allOutputs(bytes, { name: 'x', type: 'float32', dims: x, values });
    t.deepEqual(got[0], want[0]);
    t.deepEqual(got[1], want[1]);
  });

test('MaxPool with Indices into MaxUnpool (SegNet-style) matches onnxruntime end to end', async (t) => {
  const bytes = graphModel({
    opset: 12,
    nodes: [
      node('MaxPool', ['x'], ['p', 'i'], [attribute.ints('kernel_shape', [2, 2]), attribute.ints('strides', [2, 2])]),
      node('Relu', ['p'], ['r']),
      node('MaxUnpool', ['r', 'i'], ['y'], [attribute.ints('kernel_shape', [2, 2]), attribute.ints('strides', [2, 2])]),
    ],
    inputs: [io('x', 'float32', [1, 3, 6, 8])],
    outputs: [io('y', 'float32', [1, 3, 6, 8])],
  });
  const { want, got } = await allOutputs(bytes, { name: 'x', type: 'float32', dims: [1, 3, 6, 8], values: ramp(144) });
  close(t, got[0]!, want[0]!);
});

// ---- ONNX's node tests ----

const CONVERTED = [
  'test_hannwindow',
  'test_hannwindow_symmetric',
  'test_hammingwindow',
  'test_hammingwindow_symmetric',
  'test_blackmanwindow',
  'test_blackmanwindow_symmetric',
  'test_hannwindow_expanded',
  'test_hannwindow_symmetric_expanded',
  'test_hammingwindow_expanded',
  'test_hammingwindow_symmetric_expanded',
  'test_blackmanwindow_expanded',
  'test_blackmanwindow_symmetric_expanded',
  'test_edge_pad',
  'test_reflect_pad',
  'test_resize_tf_crop_and_resize',
  'test_maxunpool_export_with_output_shape',
  'test_maxunpool_export_without_output_shape',
  'test_maxpool_with_argmax_2d_precomputed_pads',
  'test_maxpool_with_argmax_2d_precomputed_strides',
];

withNodeData(
  'ONNX node tests of window functions, run-time Range, Pad, Resize roi, MaxUnpool and MaxPool indices convert and match',
  async (t) => {
    await nodeTestsMatch(t, CONVERTED);
  },
);

withNodeData(
  'Kiln’s interpreter runs the converted Pad, Resize roi, MaxUnpool and MaxPool-indices graphs as TFLite does',
  async (t) => {
    for (const name of [
      'test_edge_pad',
      'test_resize_tf_crop_and_resize',
      'test_maxunpool_export_with_output_shape',
      'test_maxunpool_export_without_output_shape',
      'test_maxpool_with_argmax_2d_precomputed_pads',
      'test_maxpool_with_argmax_2d_precomputed_strides',
    ]) {
      const c = nodeCase(name);
      await expectSameAsTflite(t, convertOnnxBytes(c.bytes).model, { seeds: [1], inputs: () => c.inputs });
    }
  },
);

test('Kiln’s interpreter runs wrap padding by run-time pads (negative ones too) as the TFLite runtime does', async (t) => {
  const model = convertOnnxBytes(padModel('wrap', [1, 2, 3, 4], [1, 3, 6, 7], 19)).model;
  for (const pads of [
    [0, 1, 2, 0, 0, 0, 1, 3],
    [0, 1, 3, -1, 0, 0, 0, 4],
  ])
    await expectSameAsTflite(t, model, {
      seeds: [1],
      inputs: () => [Float32Array.from(ramp(24)), BigInt64Array.from(pads.map(BigInt))],
    });
});
