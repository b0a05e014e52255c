import test, { type ExecutionContext } from 'ava';

import { isKilnError } from '../../shared/common/errors.js';
import type { AnyTypedArray } from '../../shared/toolchain/ir/dtype.js';
import { Interpreter } from '../../shared/toolchain/interpreter/index.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';

import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { nodeModel, type Feed, type Port } from './helpers/onnx-port-model.js';
import { attribute, convertOnnxBytes, graphModel, valueInfo } from './helpers/onnx-proto-parts.js';

// ONNX's sampling and indexing ops that TFLite composes from its builtins (MaxPool's Indices output, GridSample,
// RoiAlign), built in code, converted, and run in the TFLite runtime and in Kiln's interpreter against onnxruntime on
// the same feeds.

const { i: attrInt, s: attrStr, f: attrFloat, ints: attrInts } = attribute;

/** Deterministic values in [lo, hi), rounded to `step`. */
function values(n: number, seed: number, lo: number, hi: number, step = 0): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    const v = lo + (s / 2147483647) * (hi - lo);
    return step ? Math.round(v / step) * step : v;
  });
}
const i64 = (v: number[]): BigInt64Array => BigInt64Array.from(v.map(BigInt));

const asNumbers = (a: ArrayLike<number | bigint | boolean>): number[] => Array.from(a, Number);

/** `got` agrees with `want` within `tol` (absolute and relative); integers exactly when tol is 0. */
function agree(t: ExecutionContext, got: number[], want: number[], tol: number, what: string): void {
  t.is(got.length, want.length, `${what}: size`);
  const bad = want.findIndex((w, j) => !(Math.abs(got[j]! - w) <= tol * Math.max(1, Math.abs(w))));
  t.is(bad, -1, `${what}[${bad}]: ${got[bad]} vs ${want[bad]} (got ${got.join()}, want ${want.join()})`);
}

/**
 * Converts the model and runs it in the TFLite runtime, in Kiln's interpreter and in onnxruntime on each feed set;
 * the outputs must agree within `tol`. Returns the converted model's op types.
 */
async function sameAsOrt(
  t: ExecutionContext,
  bytes: Uint8Array,
  inputs: Port[],
  feeds: Feed[][],
  tol = 1e-5,
  label = '',
): Promise<string[]> {
  const model = convertOnnxBytes(bytes).model;
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes);
  const rt = await TfliteRuntime.load(toTfliteBytes(model));
  const interp = new Interpreter(model);
  try {
    for (const [k, feed] of feeds.entries()) {
      const ortFeeds = Object.fromEntries(
        inputs.map((p, i) => {
          const a = feed[i]!;
          const type = a instanceof Float32Array ? 'float32' : a instanceof BigInt64Array ? 'int64' : 'int32';
          return [p.name, new ort.Tensor(type as 'float32', a as Float32Array, p.dims!)];
        }),
      );
      const want = await session.run(ortFeeds);
      const got = await rt.run(feed.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
      const mine = interp.run(feed as AnyTypedArray[]).outputs;
      session.outputNames.forEach((name, i) => {
        const w = want[name]!;
        const bytesG = got[i]!.bytes.slice();
        const isInt = w.type === 'int64';
        const g = isInt ? asNumbers(new BigInt64Array(bytesG.buffer)) : asNumbers(new Float32Array(bytesG.buffer));
        const wv = asNumbers(w.data as ArrayLike<number | bigint>);
        agree(t, g, wv, isInt ? 0 : tol, `${label} feed ${k} ${name} (TFLite)`);
        agree(
          t,
          asNumbers(mine[i]!.data as ArrayLike<number | bigint>),
          wv,
          isInt ? 0 : tol,
          `${label} feed ${k} ${name} (Kiln)`,
        );
      });
    }
  } finally {
    rt.close();
  }
  return model.graph.ops.map((o) => o.type);
}

const refusal = (bytes: Uint8Array): string => {
  try {
    convertOnnxBytes(bytes);
    return 'converted';
  } catch (e) {
    return isKilnError(e) ? e.message : `crash: ${String(e)}`;
  }
};

test('MaxPool Indices: pads, strides and ties, row-major and column-major (storage_order=1), two images of three channels', async (t) => {
  const x: Port[] = [{ name: 'x', elem: 'float', dims: [2, 3, 5, 6] }];
  const outs = (h: number, w: number): Port[] => [
    { name: 'y', elem: 'float', dims: [2, 3, h, w] },
    { name: 'i', elem: 'int64', dims: [2, 3, h, w] },
  ];
  // coarse values repeat inside windows, so the first maximum in ONNX's scan order must win
  const feeds = [[values(180, 1, -4, 4, 1)], [values(180, 2, -10, 10)]];
  for (const order of [0, 1]) {
    const types = await sameAsOrt(
      t,
      nodeModel(
        'MaxPool',
        x,
        outs(3, 3),
        [
          attrInts('kernel_shape', [3, 2]),
          attrInts('strides', [2, 2]),
          attrInts('pads', [1, 0, 1, 0]),
          attrInt('storage_order', order),
        ],
        12,
      ),
      x,
      feeds,
    );
    t.true(types.includes('MAX_POOL_2D') && types.includes('ARG_MAX') && types.includes('GATHER'), types.join());
  }
});

test('MaxPool Indices: dilations with ceil_mode, a 1-D pool and a 3-D pool', async (t) => {
  const x: Port[] = [{ name: 'x', elem: 'float', dims: [1, 2, 7, 7] }];
  await sameAsOrt(
    t,
    nodeModel(
      'MaxPool',
      x,
      [
        { name: 'y', elem: 'float', dims: [1, 2, 3, 3] },
        { name: 'i', elem: 'int64', dims: [1, 2, 3, 3] },
      ],
      [
        attrInts('kernel_shape', [2, 2]),
        attrInts('dilations', [2, 2]),
        attrInts('strides', [2, 2]),
        attrInt('ceil_mode', 1),
      ],
      12,
    ),
    x,
    [[values(98, 3, -3, 3, 1)]],
  );
  const x1: Port[] = [{ name: 'x', elem: 'float', dims: [2, 2, 9] }];
  await sameAsOrt(
    t,
    nodeModel(
      'MaxPool',
      x1,
      [
        { name: 'y', elem: 'float', dims: [2, 2, 4] },
        { name: 'i', elem: 'int64', dims: [2, 2, 4] },
      ],
      [attrInts('kernel_shape', [3]), attrInts('strides', [2]), attrInts('pads', [1, 0])],
      12,
    ),
    x1,
    [[values(36, 4, -2, 2, 1)]],
  );
  const x3: Port[] = [{ name: 'x', elem: 'float', dims: [1, 2, 4, 4, 4] }];
  await sameAsOrt(
    t,
    nodeModel(
      'MaxPool',
      x3,
      [
        { name: 'y', elem: 'float', dims: [1, 2, 2, 2, 2] },
        { name: 'i', elem: 'int64', dims: [1, 2, 2, 2, 2] },
      ],
      [attrInts('kernel_shape', [2, 2, 2]), attrInts('strides', [2, 2, 2])],
      12,
    ),
    x3,
    [[values(128, 5, -3, 3, 0.5)]],
  );
});

const gridModel = (mode: string, padding: string, ac: number, x: number[], g: number[], opset = 16): Uint8Array =>
  nodeModel(
    'GridSample',
    [
      { name: 'X', elem: 'float', dims: x },
      { name: 'G', elem: 'float', dims: g },
    ],
    [{ name: 'Y', elem: 'float', dims: [x[0]!, x[1]!, g[1]!, g[2]!] }],
    [attrStr('mode', mode), attrStr('padding_mode', padding), attrInt('align_corners', ac)],
    opset,
  );

test('GridSample: every mode, padding mode and align_corners against onnxruntime, grid points inside and outside', async (t) => {
  const xDims = [2, 3, 4, 5];
  const gDims = [2, 3, 4, 2];
  const ports: Port[] = [
    { name: 'X', elem: 'float', dims: xDims },
    { name: 'G', elem: 'float', dims: gDims },
  ];
  const X = values(120, 7, -5, 5);
  // in and around [-1, 1], and far out (several reflections)
  const near = values(48, 8, -1.4, 1.4);
  const far = values(48, 9, -6, 6);
  for (const mode of ['bilinear', 'nearest', 'bicubic'])
    for (const padding of ['zeros', 'border', 'reflection'])
      for (const ac of [0, 1]) {
        const feeds: Feed[][] = [
          [X, near],
          [X, far],
        ];
        await sameAsOrt(t, gridModel(mode, padding, ac, xDims, gDims), ports, feeds, 1e-5, `${mode} ${padding} ${ac}`);
      }
});

test('GridSample nearest rounds half to even; opset 20 names the modes linear and cubic', async (t) => {
  const ports: Port[] = [
    { name: 'X', elem: 'float', dims: [1, 1, 4, 4] },
    { name: 'G', elem: 'float', dims: [1, 2, 4, 2] },
  ];
  const X = Float32Array.from({ length: 16 }, (_v, i) => i);
  // align_corners=0 on 4 pixels: x = 2g + 1.5, so g = -0.5, 0, 0.5 fall on the ties 0.5, 1.5, 2.5
  const ties = Float32Array.from([-0.5, -0.5, 0, 0, 0.5, 0.5, 1, -1, -1, 1, 0.5, -0.5, -0.5, 0.5, 0, 1]);
  const model = gridModel('nearest', 'zeros', 0, [1, 1, 4, 4], [1, 2, 4, 2]);
  t.true((await sameAsOrt(t, model, ports, [[X, ties]])).includes('ROUND'));
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(model);
  const y = (
    await s.run({ X: new ort.Tensor('float32', X, [1, 1, 4, 4]), G: new ort.Tensor('float32', ties, [1, 2, 4, 2]) })
  ).Y!;
  // (0.5, 0.5) → (0, 0); (1.5, 1.5) → (2, 2); (2.5, 2.5) → (2, 2)
  t.deepEqual(Array.from(y.data as Float32Array).slice(0, 3), [0, 10, 10]);
  for (const mode of ['linear', 'cubic'])
    await sameAsOrt(t, gridModel(mode, 'border', 0, [1, 1, 4, 4], [1, 2, 4, 2], 20), ports, [
      [X, values(16, 10, -1, 1)],
    ]);
  // a single row: align_corners=1 maps every y to 0, and reflection has no period
  const thin: Port[] = [
    { name: 'X', elem: 'float', dims: [1, 2, 1, 3] },
    { name: 'G', elem: 'float', dims: [1, 2, 4, 2] },
  ];
  for (const mode of ['bilinear', 'bicubic'])
    for (const ac of [0, 1])
      await sameAsOrt(t, gridModel(mode, 'reflection', ac, [1, 2, 1, 3], [1, 2, 4, 2]), thin, [
        [values(6, 12, -2, 2), values(16, 13, -3, 3)],
      ]);
  t.regex(refusal(gridModel('area', 'zeros', 0, [1, 1, 4, 4], [1, 2, 4, 2])), /mode=area/);
  t.regex(refusal(gridModel('bilinear', 'mirror', 0, [1, 1, 4, 4], [1, 2, 4, 2])), /padding_mode=mirror/);
});

const roiModel = (attrs: object[], x: number[], r: number, oh: number, ow: number, opset = 16): Uint8Array =>
  nodeModel(
    'RoiAlign',
    [
      { name: 'X', elem: 'float', dims: x },
      { name: 'rois', elem: 'float', dims: [r, 4] },
      { name: 'b', elem: 'int64', dims: [r] },
    ],
    [{ name: 'Y', elem: 'float', dims: [r, x[1]!, oh, ow] }],
    [attrInt('output_height', oh), attrInt('output_width', ow), ...attrs],
    opset,
  );

test('RoiAlign: avg and max, half_pixel and output_half_pixel, ROIs crossing the border, two images', async (t) => {
  const x = [2, 3, 6, 7];
  const ports: Port[] = [
    { name: 'X', elem: 'float', dims: x },
    { name: 'rois', elem: 'float', dims: [4, 4] },
    { name: 'b', elem: 'int64', dims: [4] },
  ];
  const X = values(252, 11, -5, 5);
  // (x1, y1, x2, y2) at spatial_scale 0.5: inside, past the right and bottom edges, before the top-left, degenerate
  const rois = Float32Array.from([1, 2, 9, 8, 4, 3, 16, 15, -6, -4, 5, 3, 6, 6, 6.5, 6.2]);
  for (const mode of ['avg', 'max'])
    for (const ctm of ['half_pixel', 'output_half_pixel']) {
      const types = await sameAsOrt(
        t,
        roiModel(
          [
            attrStr('mode', mode),
            attrStr('coordinate_transformation_mode', ctm),
            attrInt('sampling_ratio', 2),
            attrFloat('spatial_scale', 0.5),
          ],
          x,
          4,
          3,
          2,
        ),
        ports,
        [[X, rois, i64([1, 0, 1, 0])]],
      );
      t.true(types.includes('GATHER') && types.includes(mode === 'avg' ? 'SUM' : 'REDUCE_MAX'), types.join());
    }
  // opset 10 has no coordinate_transformation_mode: output_half_pixel
  await sameAsOrt(t, roiModel([attrInt('sampling_ratio', 3)], x, 4, 2, 2, 10), ports, [[X, rois, i64([0, 1, 0, 1])]]);
  t.regex(refusal(roiModel([], x, 4, 2, 2)), /sampling_ratio=0/);
});

test('MaxUnpool of a MaxPool with overlapping windows (repeated indices) and of run-time indices, 2-D and 1-D', async (t) => {
  // MaxPool 3×3 stride 2 pad 1 → MaxUnpool with the same attributes: [2, 3, 7, 7] → [2, 3, 4, 4] → [2, 3, 7, 7]
  const pool = [
    attribute.ints('kernel_shape', [3, 3]),
    attribute.ints('strides', [2, 2]),
    attribute.ints('pads', [1, 1, 1, 1]),
  ];
  const chain = graphModel({
    opset: 12,
    nodes: [
      { opType: 'MaxPool', name: 'p', input: ['x'], output: ['v', 'i'], attribute: pool },
      { opType: 'MaxUnpool', name: 'u', input: ['v', 'i'], output: ['y'], attribute: pool },
    ],
    inputs: [valueInfo('x', 'float', [2, 3, 7, 7])],
    outputs: [valueInfo('y', 'float', [2, 3, 7, 7])],
  });
  const x: Port[] = [{ name: 'x', elem: 'float', dims: [2, 3, 7, 7] }];
  const types = await sameAsOrt(t, chain, x, [[values(294, 14, -4, 4, 1)], [values(294, 15, -9, 9)]]);
  t.true(types.includes('SCATTER_ND'), types.join());
  // indices fed at run time, a 1-D unpool with an output_shape equal to the inferred one
  const ports: Port[] = [
    { name: 'v', elem: 'float', dims: [1, 2, 3] },
    { name: 'i', elem: 'int64', dims: [1, 2, 3] },
  ];
  const k2 = [attribute.ints('kernel_shape', [2]), attribute.ints('strides', [2])];
  await sameAsOrt(t, nodeModel('MaxUnpool', ports, [{ name: 'y', elem: 'float', dims: [1, 2, 6] }], k2, 11), ports, [
    [values(6, 16, -3, 3), i64([1, 2, 5, 6, 9, 10])],
  ]);
  const shaped: Port[] = [...ports, { name: 's', elem: 'int64', dims: [3], init: [1, 2, 6] }];
  const same = nodeModel('MaxUnpool', shaped, [{ name: 'y', elem: 'float', dims: [1, 2, 6] }], k2, 11);
  await sameAsOrt(t, same, ports, [[values(6, 17, -3, 3), i64([0, 3, 4, 7, 8, 11])]]);
  // an output_shape larger than the inferred one: test/loaders/onnx-runtime-shapes.test.ts (ONNX's reference)
});

withNodeData('ONNX node tests of MaxPool with Indices, GridSample, RoiAlign and MaxUnpool match', async (t) => {
  // 2 MaxPool with Indices, 8 GridSample, 2 RoiAlign, 2 MaxUnpool
  await nodeTestsMatch(t, /^test_(maxpool_with_argmax|gridsample|roialign|maxunpool)/, 14);
});
