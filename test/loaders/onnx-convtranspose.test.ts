import test from 'ava';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { bothRuntimes, convertOnnx, onnxGraph, rng, worstError } from './helpers/onnx-graph.js';

/** A dilated ConvTranspose (NCHW [1, 2, 4, 5] → 3 channels, 3×2 kernel), weights constant or fed at run time. */
function dilated(dilations: [number, number], strides: [number, number], weightsAtRunTime: boolean) {
  const r = rng(dilations[0] * 10 + dilations[1] + (weightsAtRunTime ? 100 : 0));
  const x = { name: 'x', type: 'float32' as const, dims: [1, 2, 4, 5] };
  const w = { name: 'w', type: 'float32' as const, dims: [2, 3, 3, 2] };
  const wValues = Array.from({ length: 36 }, r);
  const [kh, kw] = [3, 2];
  const oh = strides[0] * 3 + (kh - 1) * dilations[0] + 1;
  const ow = strides[1] * 4 + (kw - 1) * dilations[1] + 1;
  const bytes = onnxGraph({
    nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { dilations, strides } }],
    inputs: weightsAtRunTime ? [x, w] : [x],
    inits: weightsAtRunTime ? [] : [{ ...w, values: wValues }],
    outputs: [{ name: 'y', type: 'float32', dims: [1, 3, oh, ow] }],
  });
  const feeds = [
    { ...x, values: Array.from({ length: 40 }, r) },
    ...(weightsAtRunTime ? [{ ...w, values: wValues }] : []),
  ];
  return { bytes, feeds, out: { name: 'y', type: 'float32' as const, dims: [1, 3, oh, ow] } };
}

for (const weightsAtRunTime of [false, true])
  for (const [dil, strides] of [
    [
      [2, 2],
      [1, 1],
    ],
    [
      [2, 3],
      [2, 1],
    ],
  ] as [[number, number], [number, number]][])
    test(`dilated ConvTranspose ${dil} stride ${strides}, weights ${weightsAtRunTime ? 'at run time' : 'constant'}: as onnxruntime`, async (t) => {
      const m = dilated(dil, strides, weightsAtRunTime);
      const { want, got } = await bothRuntimes(m.bytes, m.feeds, [m.out]);
      t.is(got[0]!.length, want[0]!.length);
      t.true(worstError(got[0]!, want[0]!) <= 1e-5, `${Array.from(got[0]!)} vs ${Array.from(want[0]!)}`);
      const ops = convertOnnx(m.bytes).graph.ops.map((o) => o.type);
      t.true(ops.includes('TRANSPOSE_CONV'), ops.join(' '));
      // Kiln's interpreter runs the converted model (run-time weights read on every run) as the TFLite runtime does.
      await expectSameAsTflite(t, convertOnnx(m.bytes));
    });

test('1-D ConvTranspose with weights at run time (dilated, strided): as onnxruntime and the interpreter', async (t) => {
  const r = rng(7);
  const x = { name: 'x', type: 'float32' as const, dims: [1, 2, 6] };
  const w = { name: 'w', type: 'float32' as const, dims: [2, 3, 3] };
  const out = { name: 'y', type: 'float32' as const, dims: [1, 3, 2 * 5 + 2 * 2 + 1] };
  const bytes = onnxGraph({
    nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { dilations: [2], strides: [2] } }],
    inputs: [x, w],
    outputs: [out],
  });
  const feeds = [
    { ...x, values: Array.from({ length: 12 }, r) },
    { ...w, values: Array.from({ length: 18 }, r) },
  ];
  const { want, got } = await bothRuntimes(bytes, feeds, [out]);
  t.is(got[0]!.length, want[0]!.length);
  t.true(worstError(got[0]!, want[0]!) <= 1e-5, `${Array.from(got[0]!)} vs ${Array.from(want[0]!)}`);
  await expectSameAsTflite(t, convertOnnx(bytes));
});

test('3-D ConvTranspose (strides, dilations, pads, bias; weights at run time or constant): as onnxruntime', async (t) => {
  for (const weightsAtRunTime of [true, false]) {
    const r = rng(weightsAtRunTime ? 31 : 32);
    const x = { name: 'x', type: 'float32' as const, dims: [1, 2, 3, 4, 3] };
    const w = { name: 'w', type: 'float32' as const, dims: [2, 3, 2, 3, 2] };
    const strides = [2, 1, 2];
    const dilations = [1, 2, 1];
    const pads = [1, 0, 1, 0, 2, 1];
    const full = [2 * 2 + 2, 1 * 3 + 5, 2 * 2 + 2];
    const out = {
      name: 'y',
      type: 'float32' as const,
      dims: [1, 3, full[0]! - pads[0]! - pads[3]!, full[1]! - pads[1]! - pads[4]!, full[2]! - pads[2]! - pads[5]!],
    };
    const wValues = Array.from({ length: 72 }, r);
    const bytes = onnxGraph({
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { strides, dilations, pads } }],
      inputs: weightsAtRunTime ? [x, w] : [x],
      inits: [
        { name: 'b', type: 'float32', dims: [3], values: [0.5, -1, 2] },
        ...(weightsAtRunTime ? [] : [{ ...w, values: wValues }]),
      ],
      outputs: [out],
    });
    const feeds = [
      { ...x, values: Array.from({ length: 72 }, r) },
      ...(weightsAtRunTime ? [{ ...w, values: wValues }] : []),
    ];
    const { want, got } = await bothRuntimes(bytes, feeds, [out]);
    t.is(got[0]!.length, want[0]!.length);
    t.true(worstError(got[0]!, want[0]!) <= 1e-5, `${Array.from(got[0]!)} vs ${Array.from(want[0]!)}`);
    await expectSameAsTflite(t, convertOnnx(bytes));
  }
});
