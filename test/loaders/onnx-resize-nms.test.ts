import test from 'ava';
import { isKilnError } from '../../shared/common/errors.js';
import { DEFAULT_DATA, runConformance } from '../../scripts/onnx-conformance.js';
import { nodeTestsMatch, withNodeData } from './helpers/conformance.js';
import { expectSameAsTflite } from '../interpreter/oracle-compare.js';
import { attr, convertOnnx, init, nodeCase, nodeModel, runTflite } from './helpers/onnx-node-case.js';

/**
 * ONNX Resize by per-axis index/weight tables (the cases TFLite's resize flags cannot express) and NonMaxSuppression
 * through NON_MAX_SUPPRESSION_V4. ONNX's own node tests (Debian's libonnx-testdata; skipped when absent) are the
 * reference: the tests this branch converts match by name (Resize with run-time scales computes its tables in the
 * graph), and the Resize tests whose scales or roi come at run time match by constant tables once those are
 * constants. In-code models cover NMS's assembly of the triples.
 */

const RUNTIME_SCALES = [
  'test_resize_downsample_scales_cubic',
  'test_resize_downsample_scales_cubic_A_n0p5_exclude_outside',
  'test_resize_downsample_scales_cubic_align_corners',
  'test_resize_downsample_scales_linear',
  'test_resize_downsample_scales_linear_align_corners',
  'test_resize_downsample_scales_nearest',
];

const CONVERTED = [
  // 8-bit integer arithmetic and friends
  'test_add_uint8',
  'test_sub_uint8',
  'test_mul_uint8',
  'test_div_uint8',
  'test_mod_uint8',
  'test_mod_mixed_sign_int8',
  'test_mod_int64_fmod',
  'test_mod_mixed_sign_float32',
  'test_clip_default_int8_inbounds',
  'test_clip_default_int8_max',
  'test_clip_default_int8_min',
  'test_maxpool_2d_uint8',
  'test_pow_types_float',
  'test_pow_types_int64_float32',
  'test_pow_types_int64_int64',
  'test_averagepool_2d_pads',
  'test_averagepool_2d_same_lower',
  // Resize by tables
  'test_resize_downsample_sizes_cubic',
  'test_resize_downsample_sizes_linear_pytorch_half_pixel',
  'test_resize_downsample_sizes_nearest',
  'test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn',
  'test_resize_upsample_scales_cubic',
  'test_resize_upsample_scales_cubic_A_n0p5_exclude_outside',
  'test_resize_upsample_scales_cubic_align_corners',
  'test_resize_upsample_scales_cubic_asymmetric',
  'test_resize_upsample_sizes_cubic',
  'test_resize_upsample_sizes_nearest',
  'test_resize_upsample_sizes_nearest_ceil_half_pixel',
  'test_resize_upsample_sizes_nearest_floor_align_corners',
  'test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric',
  ...RUNTIME_SCALES,
  // NonMaxSuppression
  'test_nonmaxsuppression_center_point_box_format',
  'test_nonmaxsuppression_flipped_coordinates',
  'test_nonmaxsuppression_identical_boxes',
  'test_nonmaxsuppression_limit_output_size',
  'test_nonmaxsuppression_single_box',
  'test_nonmaxsuppression_suppress_by_IOU',
  'test_nonmaxsuppression_suppress_by_IOU_and_scores',
  'test_nonmaxsuppression_two_batches',
  'test_nonmaxsuppression_two_classes',
];

withNodeData(
  'ONNX node tests of integer arithmetic, Resize, AveragePool and NonMaxSuppression convert and match',
  async (t) => {
    await nodeTestsMatch(t, CONVERTED);
  },
);

withNodeData(
  'Resize with a roi computed at run time: coordinates computed in the graph, run by Kiln as by the runtime',
  async (t) => {
    const [r] = await runConformance(DEFAULT_DATA, ['node'], /^test_resize_tf_crop_and_resize$/);
    t.is(r!.status, 'matched');
    const c = nodeCase('test_resize_tf_crop_and_resize');
    const conv = convertOnnx(c.bytes);
    t.true(conv.model.graph.ops.some((o) => o.type === 'SELECT_V2'));
    await expectSameAsTflite(t, conv.model, { seeds: [1], inputs: () => c.inputs });
  },
);

withNodeData(
  'Resize with scales computed at run time: coordinates, indices and weights computed in the graph',
  async (t) => {
    for (const name of RUNTIME_SCALES) {
      const c = nodeCase(name);
      const conv = convertOnnx(c.bytes);
      t.true(
        conv.model.graph.ops.some((o) => o.type === 'DIV'),
        `${name}: coordinates from the run-time scale`,
      );
      await expectSameAsTflite(t, conv.model, { seeds: [1], inputs: () => c.inputs });
    }
  },
);

const close = (a: number, e: number): boolean => Math.abs(a - e) <= 1e-4 + 1e-3 * Math.abs(e);

// the Resize tests with run-time scales (or roi) with those as constants: every table case against ONNX's numbers
for (const [name, consts] of [
  ['test_resize_downsample_scales_cubic', ['scales']],
  ['test_resize_downsample_scales_cubic_A_n0p5_exclude_outside', ['scales']],
  ['test_resize_downsample_scales_cubic_align_corners', ['scales']],
  ['test_resize_downsample_scales_linear', ['scales']],
  ['test_resize_downsample_scales_linear_align_corners', ['scales']],
  ['test_resize_downsample_scales_nearest', ['scales']],
  ['test_resize_tf_crop_and_resize', ['roi', 'sizes']],
] as const)
  withNodeData(
    `${name} with constant ${consts.join(' and ')}: tables match ONNX, Kiln's interpreter the runtime`,
    async (t) => {
      const c = nodeCase(name, [...consts]);
      const conv = convertOnnx(c.bytes);
      const [got] = await runTflite(conv, c.inputs);
      const want = Array.from(c.expected[0] as Float32Array);
      const g = Array.from(got as Float32Array);
      t.is(g.length, want.length);
      const bad = g.findIndex((v, i) => !close(v, want[i]!));
      t.is(bad, -1, `at ${bad}: ${g[bad]} vs ${want[bad]}`);
      t.true(
        conv.model.graph.ops.some((o) => o.type === 'GATHER'),
        'resized by tables',
      );
      await expectSameAsTflite(t, conv.model, { seeds: [1], inputs: () => c.inputs });
    },
  );

withNodeData('Resize nearest with half_pixel and round_prefer_floor on whole factors keeps the builtin', (t) => {
  const c = nodeCase('test_resize_upsample_scales_nearest', ['scales']);
  const types = convertOnnx(c.bytes).model.graph.ops.map((o) => o.type);
  t.true(types.includes('RESIZE_NEAREST_NEIGHBOR'));
  t.false(types.includes('GATHER'));
});

withNodeData(
  'NonMaxSuppression node tests: Kiln’s interpreter runs the converted graph as the runtime does',
  async (t) => {
    for (const name of CONVERTED.filter((n) => n.includes('nonmax'))) {
      const c = nodeCase(name);
      await expectSameAsTflite(t, convertOnnx(c.bytes).model, { seeds: [1], inputs: () => c.inputs });
    }
  },
);

/** ONNX's NMS: per batch and class, greedy by score (ties: lower index), IoU > threshold suppresses. */
function onnxNms(
  boxes: number[][][],
  scores: number[][][],
  max: number,
  iouT: number,
  scoreT: number,
  center: boolean,
): number[][] {
  const corners = (b: number[]): number[] =>
    center ? [b[1]! - b[3]! / 2, b[0]! - b[2]! / 2, b[1]! + b[3]! / 2, b[0]! + b[2]! / 2] : b;
  const iou = (p: number[], q: number[]): number => {
    const [a, b] = [corners(p), corners(q)];
    const box = (x: number[]) => [
      Math.min(x[0]!, x[2]!),
      Math.min(x[1]!, x[3]!),
      Math.max(x[0]!, x[2]!),
      Math.max(x[1]!, x[3]!),
    ];
    const [A, B] = [box(a), box(b)];
    const area = (x: number[]) => (x[2]! - x[0]!) * (x[3]! - x[1]!);
    const ih = Math.max(0, Math.min(A[2]!, B[2]!) - Math.max(A[0]!, B[0]!));
    const iw = Math.max(0, Math.min(A[3]!, B[3]!) - Math.max(A[1]!, B[1]!));
    const inter = ih * iw;
    return area(A) <= 0 || area(B) <= 0 ? 0 : inter / (area(A) + area(B) - inter);
  };
  const out: number[][] = [];
  boxes.forEach((bb, bi) =>
    scores[bi]!.forEach((sc, ci) => {
      const order = sc
        .map((s, i) => [s, i] as const)
        .filter(([s]) => s > scoreT)
        .sort((p, q) => q[0] - p[0] || p[1] - q[1]);
      const kept: number[] = [];
      for (const [, i] of order) {
        if (kept.length >= max) break;
        if (kept.every((k) => iou(bb[i]!, bb[k]!) <= iouT)) kept.push(i);
      }
      for (const k of kept) out.push([bi, ci, k]);
    }),
  );
  return out;
}

function nmsModel(o: {
  B: number;
  C: number;
  N: number;
  rows: number | 'symbolic';
  max: number;
  center: boolean;
  iou?: number;
}) {
  return nodeModel({
    op: 'NonMaxSuppression',
    opset: 11,
    inputs: [
      { name: 'boxes', dtype: 'float32', dims: [o.B, o.N, 4] },
      { name: 'scores', dtype: 'float32', dims: [o.B, o.C, o.N] },
    ],
    // 'symbolic': the output declared without its dimensions
    outputs: [{ name: 'selected', dtype: 'int64', dims: o.rows === 'symbolic' ? [] : [o.rows, 3] }],
    nodeInputs: ['boxes', 'scores', 'max', 'iou', 'score'],
    attrs: o.center ? [attr.i('center_point_box', 1)] : [],
    inits: [
      init('max', 'int64', [1], [o.max]),
      init('iou', 'float32', [1], [o.iou ?? 0.3]),
      init('score', 'float32', [1], [0.15]),
    ],
  });
}

test('NonMaxSuppression built in code: batches, classes, center boxes; rows as the model declares', async (t) => {
  const B = 2;
  const C = 3;
  const N = 10;
  let s = 5;
  const r = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  for (const center of [false, true]) {
    const boxes = Array.from({ length: B }, () =>
      Array.from({ length: N }, () => [Math.floor(r() * 4) / 2, Math.floor(r() * 4) / 2, 1 + Math.floor(r() * 2), 1]),
    );
    const scores = Array.from({ length: B }, () =>
      Array.from({ length: C }, () => Array.from({ length: N }, (_v, i) => Math.floor(r() * 8) / 8 + i / 128)),
    );
    const want = onnxNms(boxes, scores, 4, 0.3, 0.15, center);
    for (const rows of [want.length, want.length + 3, Math.max(1, want.length - 2)]) {
      const conv = convertOnnx(nmsModel({ B, C, N, rows, max: 4, center }));
      const inputs = [Float32Array.from(boxes.flat(2)), Float32Array.from(scores.flat(2))];
      const [got] = await runTflite(conv, inputs);
      const g = Array.from(got as BigInt64Array, Number);
      const expected = [
        ...want.slice(0, rows),
        ...new Array<number[]>(Math.max(0, rows - want.length)).fill([0, 0, 0]),
      ];
      t.deepEqual(
        g,
        expected.flat(),
        `center ${center}, ${rows} rows: ${JSON.stringify(g)} vs ${JSON.stringify(expected)}`,
      );
      await expectSameAsTflite(t, conv.model, { seeds: [1], inputs: () => inputs });
    }
  }
});

test('NonMaxSuppression without a fixed declared output shape is refused, naming it', (t) => {
  const bytes = nmsModel({ B: 1, C: 1, N: 4, rows: 'symbolic', max: 2, center: false });
  const e = t.throws(() => convertOnnx(bytes));
  t.true(isKilnError(e));
  t.regex(e!.message, /NonMaxSuppression|number of selected boxes depends on the data/);
});

test('NonMaxSuppression with a constant iou_threshold of 1 or more is refused, naming it', (t) => {
  const e = t.throws(() => convertOnnx(nmsModel({ B: 1, C: 1, N: 4, rows: 2, max: 2, center: false, iou: 1 })));
  t.true(isKilnError(e));
  t.regex(e!.message, /iou_threshold 1/);
});
