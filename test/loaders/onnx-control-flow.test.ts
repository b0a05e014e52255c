import test from 'ava';

import { isKilnError } from '../../shared/common/errors.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { convertOnnx, worstError } from './helpers/onnx-graph.js';
import { attribute, graphModel, initializer, valueInfo, type OnnxElemName } from './helpers/onnx-proto-parts.js';

type Feed = { name: string; type: 'float32' | 'bool'; dims: number[]; values: number[] };

const node = (opType: string, input: string[], output: string[], attrs: object[] = []): object => ({
  opType,
  name: output[0],
  input,
  output,
  attribute: attrs,
});
const vi = (name: string, elem: OnnxElemName, dims?: number[]): object => valueInfo(name, elem, dims);
const typed = (f: Feed): Float32Array | Uint8Array =>
  f.type === 'float32' ? Float32Array.from(f.values) : Uint8Array.from(f.values);

/** onnxruntime's outputs and the converted model's in the TFLite runtime, for each set of feeds. */
async function compare(
  bytes: Uint8Array,
  feedSets: Feed[][],
  outputs: string[],
): Promise<{ want: number[][]; got: number[][] }[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(convertOnnx(bytes)));
  try {
    const res: { want: number[][]; got: number[][] }[] = [];
    for (const feeds of feedSets) {
      const input: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const f of feeds)
        input[f.name] =
          f.type === 'bool'
            ? new ort.Tensor('bool', Uint8Array.from(f.values), f.dims)
            : new ort.Tensor('float32', Float32Array.from(f.values), f.dims);
      const o = await session.run(input);
      const want = outputs.map((n) => Array.from(o[n]!.data as Float32Array, Number));
      const outs = await rt.run(feeds.map((f) => new Uint8Array(typed(f).buffer)));
      const got = outs.map((x) => Array.from(new Float32Array(x.bytes.slice().buffer), Number));
      res.push({ want, got });
    }
    return res;
  } finally {
    rt.close();
  }
}

function sameOutputs(t: import('ava').ExecutionContext, rows: { want: number[][]; got: number[][] }[]): void {
  rows.forEach(({ want, got }, k) =>
    want.forEach((w, i) => t.true(worstError(got[i]!, w) <= 1e-5, `feeds ${k}, output ${i}: ${got[i]} vs ${w}`)),
  );
}

// If: both branches read the outer x; the run-time condition picks one
const ifModel = (thenShape = [2, 3]): Uint8Array =>
  graphModel({
    opset: 13,
    nodes: [
      node(
        'If',
        ['c'],
        ['y'],
        [
          attribute.g('then_branch', {
            nodes: [node('Mul', ['x', 'two'], ['t0']), node('Reshape', ['t0', 'tshape'], ['t'])],
            initializers: [initializer('two', 'float32', [], [2]), initializer('tshape', 'int64', [2], thenShape)],
            inputs: [],
            outputs: [vi('t', 'float32')],
          }),
          attribute.g('else_branch', {
            nodes: [node('Sub', ['x', 'w'], ['e0']), node('Relu', ['e0'], ['e'])],
            initializers: [initializer('w', 'float32', [3], [0.5, -1, 2])],
            inputs: [],
            outputs: [vi('e', 'float32')],
          }),
        ],
      ),
    ],
    inputs: [vi('c', 'bool', []), vi('x', 'float32', [2, 3])],
    outputs: [vi('y', 'float32', [2, 3])],
  });

const X6 = [1, -2, 3, 0.25, 5, -6];

test('If on a run-time condition: both branches, picked by SELECT_V2, as onnxruntime', async (t) => {
  const bytes = ifModel();
  t.true(convertOnnx(bytes).graph.ops.some((o) => o.type === 'SELECT_V2'));
  const feeds = (c: number): Feed[] => [
    { name: 'c', type: 'bool', dims: [], values: [c] },
    { name: 'x', type: 'float32', dims: [2, 3], values: X6 },
  ];
  const rows = await compare(bytes, [feeds(1), feeds(0)], ['y']);
  sameOutputs(t, rows);
  // the two conditions really give different results
  t.notDeepEqual(rows[0]!.want[0], rows[1]!.want[0]);
});

test('If with a constant condition converts only the branch it takes', (t) => {
  const bytes = graphModel({
    opset: 13,
    nodes: [
      node(
        'If',
        ['c'],
        ['y'],
        [
          attribute.g('then_branch', {
            nodes: [node('Neg', ['x'], ['t'])],
            inputs: [],
            outputs: [vi('t', 'float32')],
          }),
          attribute.g('else_branch', {
            nodes: [node('Exp', ['x'], ['e'])],
            inputs: [],
            outputs: [vi('e', 'float32')],
          }),
        ],
      ),
    ],
    initializers: [initializer('c', 'bool', [], [0])],
    inputs: [vi('x', 'float32', [4])],
    outputs: [vi('y', 'float32', [4])],
  });
  t.deepEqual(
    convertOnnx(bytes).graph.ops.map((o) => o.type),
    ['EXP'],
  );
});

test('If on a run-time condition whose branches differ in shape is refused, naming the shapes', (t) => {
  const e = t.throws(() => convertOnnx(ifModel([3, 2])));
  t.true(isKilnError(e));
  t.regex(e.message, /If.*different shapes \(3×2, 2×3\)/);
});

// Loop: a constant bound, a condition computed at run time from the carried value
const growModel = (): Uint8Array =>
  graphModel({
    opset: 13,
    nodes: [
      node(
        'Loop',
        ['trip', 'c0', 'x'],
        ['y'],
        [
          attribute.g('body', {
            nodes: [
              node('Mul', ['xi', 'k'], ['m']),
              node('Add', ['m', 'one'], ['xo']),
              node('ReduceSum', ['xo'], ['s'], [attribute.i('keepdims', 0)]),
              node('Less', ['s', 'limit'], ['co']),
            ],
            initializers: [initializer('k', 'float32', [], [1.5]), initializer('one', 'float32', [], [1])],
            inputs: [vi('i', 'int64', []), vi('ci', 'bool', []), vi('xi', 'float32', [3])],
            outputs: [vi('co', 'bool', []), vi('xo', 'float32', [3])],
          }),
        ],
      ),
    ],
    initializers: [initializer('trip', 'int64', [], [6])],
    inputs: [vi('c0', 'bool', []), vi('x', 'float32', [3]), vi('limit', 'float32', [])],
    outputs: [vi('y', 'float32', [3])],
  });

test('Loop with a constant trip count stops where its run-time condition turns false, as onnxruntime', async (t) => {
  const bytes = growModel();
  const feeds = (c0: number, limit: number): Feed[] => [
    { name: 'c0', type: 'bool', dims: [], values: [c0] },
    { name: 'x', type: 'float32', dims: [3], values: [0.5, -1, 2] },
    { name: 'limit', type: 'float32', dims: [], values: [limit] },
  ];
  // the condition ends it after 1, 3 and 6 (the bound) iterations, or before the first
  const rows = await compare(bytes, [feeds(1, 0), feeds(1, 20), feeds(1, 1e6), feeds(0, 1e6)], ['y']);
  sameOutputs(t, rows);
  t.is(new Set(rows.map((r) => r.want[0]!.join())).size, 4);
});

// Loop: trip count computed at run time; the declared scan output fixes the iteration count
const scanLoopModel = (declared: boolean): Uint8Array =>
  graphModel({
    opset: 13,
    nodes: [
      node('Cast', ['n'], ['trip'], [attribute.i('to', 7)]),
      node(
        'Loop',
        ['trip', '', 'acc0'],
        ['acc', 'rows'],
        [
          attribute.g('body', {
            nodes: [
              node('Gather', ['table', 'i'], ['row'], [attribute.i('axis', 0)]),
              node('Add', ['a', 'row'], ['ao']),
              node('Mul', ['ao', 'ao'], ['sq']),
            ],
            inputs: [vi('i', 'int64', []), vi('ci', 'bool', []), vi('a', 'float32', [2])],
            outputs: [vi('ci', 'bool', []), vi('ao', 'float32', [2]), vi('sq', 'float32', [2])],
          }),
        ],
      ),
    ],
    inputs: [vi('n', 'float32', []), vi('acc0', 'float32', [2]), vi('table', 'float32', [4, 2])],
    outputs: [vi('acc', 'float32', [2]), declared ? vi('rows', 'float32', [3, 2]) : vi('rows', 'float32')],
  });

test('Loop with a run-time trip count unrolls to the length its scan output declares, as onnxruntime', async (t) => {
  const feeds: Feed[] = [
    { name: 'n', type: 'float32', dims: [], values: [3] },
    { name: 'acc0', type: 'float32', dims: [2], values: [0.5, -0.25] },
    { name: 'table', type: 'float32', dims: [4, 2], values: [1, 2, -3, 4, 0.5, -0.5, 9, 9] },
  ];
  sameOutputs(t, await compare(scanLoopModel(true), [feeds], ['acc', 'rows']));
});

test('Loop with a run-time trip count and no declared scan length is refused, naming WHILE', (t) => {
  const e = t.throws(() => convertOnnx(scanLoopModel(false)));
  t.true(isKilnError(e));
  t.regex(e.message, /Loop.*trip count is computed at run time/);
  t.regex((e as { hint?: string }).hint ?? '', /WHILE/);
});

// Scan (opset 11): two scan inputs, one read backwards along axis 1; the scan output stacked on axis 1, reversed
const scanModel = (): Uint8Array =>
  graphModel({
    opset: 11,
    nodes: [
      node(
        'Scan',
        ['s0', 'a', 'b'],
        ['s', 'z'],
        [
          attribute.i('num_scan_inputs', 2),
          attribute.ints('scan_input_axes', [0, 1]),
          attribute.ints('scan_input_directions', [0, 1]),
          attribute.ints('scan_output_axes', [1]),
          attribute.ints('scan_output_directions', [1]),
          attribute.g('body', {
            nodes: [node('Mul', ['ai', 'bi'], ['p']), node('Add', ['si', 'p'], ['so']), node('Tanh', ['so'], ['zo'])],
            inputs: [vi('si', 'float32', [2]), vi('ai', 'float32', [2]), vi('bi', 'float32', [2])],
            outputs: [vi('so', 'float32', [2]), vi('zo', 'float32', [2])],
          }),
        ],
      ),
    ],
    inputs: [vi('s0', 'float32', [2]), vi('a', 'float32', [3, 2]), vi('b', 'float32', [2, 3])],
    outputs: [vi('s', 'float32', [2]), vi('z', 'float32', [2, 3])],
  });

test('Scan with axes and directions unrolls over its static length, as onnxruntime', async (t) => {
  const feeds: Feed[] = [
    { name: 's0', type: 'float32', dims: [2], values: [0.1, -0.2] },
    { name: 'a', type: 'float32', dims: [3, 2], values: [1, 2, 3, 4, 5, 6] },
    { name: 'b', type: 'float32', dims: [2, 3], values: [0.1, 0.2, -0.3, 0.4, -0.5, 0.6] },
  ];
  sameOutputs(t, await compare(scanModel(), [feeds], ['s', 'z']));
});

test("Kiln's interpreter runs the converted If, Loop and Scan like the TFLite runtime", async (t) => {
  for (const bytes of [ifModel(), growModel(), scanLoopModel(true), scanModel()])
    await expectSameAsTflite(t, convertOnnx(bytes));
});

withNodeData('ONNX node tests: If, Loop and Scan on tensors convert and match', async (t) => {
  await nodeTestsMatch(
    t,
    /^test_(if|loop11|scan_sum|scan9_sum|range_float_type_positive_delta_expanded|range_int32_type_negative_delta_expanded)$/,
    6,
  );
});

test('nested loops that would unroll past the model-wide node budget are refused, not expanded', (t) => {
  const inner = attribute.g('body', {
    nodes: [node('Add', ['xi2', 'one'], ['xo2'])],
    initializers: [initializer('one', 'float32', [], [1])],
    inputs: [vi('i2', 'int64', []), vi('c2', 'bool', []), vi('xi2', 'float32', [2])],
    outputs: [vi('c2', 'bool', []), vi('xo2', 'float32', [2])],
  });
  const outer = attribute.g('body', {
    nodes: [node('Loop', ['n', '', 'xi'], ['xo'], [inner])],
    inputs: [vi('i', 'int64', []), vi('c', 'bool', []), vi('xi', 'float32', [2])],
    outputs: [vi('c', 'bool', []), vi('xo', 'float32', [2])],
  });
  const bytes = graphModel({
    opset: 13,
    nodes: [node('Loop', ['n', '', 'x'], ['y'], [outer])],
    initializers: [initializer('n', 'int64', [], [400])],
    inputs: [vi('x', 'float32', [2])],
    outputs: [vi('y', 'float32', [2])],
  });
  const e = t.throws(() => convertOnnx(bytes));
  t.true(isKilnError(e));
  t.regex(e.message, /Loop.*more than 20000 nodes/);
});
