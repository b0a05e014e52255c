/**
 * ONNX NonMaxSuppression → TFLite NON_MAX_SUPPRESSION_V4 once per (batch, class), then the [num_selected, 3] int64
 * triples (batch, class, box) assembled in the graph. The number of selected boxes depends on the data, so the output
 * has the row count the model declares (refused when it declares none): rows past the boxes actually selected are
 * zeros, selections past the declared rows are dropped.
 *
 * Each V4 op runs with max_output_size = the number of boxes (a constant, so that TFLite sizes its output statically);
 * max_output_boxes_per_class (a constant or a run-time value) then caps each class's count, which keeps the first
 * selections, the same boxes NMS with that limit selects. ONNX suppresses when IoU > iou_threshold, TFLite when
 * IoU ≥ it: a constant threshold is passed as the next float32 above it; one computed at run time is passed as is
 * (an IoU exactly equal to it then suppresses). Equal scores are taken in the order TFLite's heap yields them.
 */

import { TensorType } from '../../../tflite/schema.js';
import { emitSlice } from '../../emit.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo } from './common.js';

/** The next float32 above v. */
export function nextFloat32Up(v: number): number {
  const f = new Float32Array([v]);
  const i = new Int32Array(f.buffer);
  if (Number.isNaN(f[0]!) || f[0] === Infinity) return f[0]!;
  if (f[0] === 0) return 1.4e-45;
  i[0]! += f[0]! > 0 ? 1 : -1;
  return f[0]!;
}

const LOWEST = -3.4028234663852886e38;

export function nonMaxSuppression(c: OnnxCtx): Value[] {
  const bs = c.shape(0);
  const ss = c.shape(1);
  if (bs.length !== 3 || bs[2] !== 4 || ss.length !== 3 || ss[0] !== bs[0] || ss[2] !== bs[1])
    throw c.refuse(`boxes [${bs.join(', ')}] and scores [${ss.join(', ')}] that do not fit [B, N, 4] and [B, C, N]`);
  if (c.dtype(0) !== F32 || c.dtype(1) !== F32) throw c.refuse('boxes or scores that are not float32');
  const declared = c.declared(0);
  if (!declared || declared.length !== 2 || declared[1] !== 3 || declared.some((d) => !(d >= 0)))
    throw c.refuse(
      'the number of selected boxes depends on the data and the model declares no fixed output shape [num_selected, 3]',
      'Declare the output shape of NonMaxSuppression (e.g. with onnx.shape_inference or by editing the graph output)',
    );
  const [B, N] = bs as [number, number];
  const C = ss[1]!;
  const K = declared[0]!;
  const P = B * C;
  const b = c.b;
  const name = c.name;
  let boxes = c.tensor(0, null);
  if (c.attr.i('center_point_box', 0) === 1) boxes = cornersOf(c, boxes, [B, N, 4]);
  boxes = separateDegenerate(c, boxes, [B, N, 4]);
  const scores = c.tensor(1, null);
  const scalar = (i: number, tag: string, dflt: number, adjust: (v: number) => number): number => {
    if (!c.has(i)) return b.constant(`${name}/${tag}`, F32, [], [adjust(dflt)]);
    if (c.isConst(i)) return b.constant(`${name}/${tag}`, F32, [], [adjust(c.const(i).v[0]!)]);
    if (c.dtype(i) !== F32) throw c.refuse(`a ${c.dtype(i)} ${tag}`);
    return b.reshape(c.tensor(i, null), [], { name: `${name}/${tag}` });
  };
  if (c.has(3) && c.isConst(3) && c.const(3).v[0]! >= 1)
    throw c.refuse(
      `iou_threshold ${c.const(3).v[0]} (no suppression at all)`,
      'TFLite’s NMS selects a box again when its IoU with itself is under the threshold; use an iou_threshold below 1',
    );
  const iouT = scalar(3, 'iou_threshold', 0, nextFloat32Up);
  const scoreT = scalar(4, 'score_threshold', LOWEST, (v) => v);
  const maxOut = b.constant(`${name}/max_output_size`, 'int32', [], [N]);
  const sel: number[] = [];
  const counts: number[] = [];
  for (let bi = 0; bi < B; bi++) {
    const bx = b.reshape(emitSlice(c.b, boxes, [bi, 0, 0], [1, N, 4], `${name}/b${bi}/boxes`), [N, 4], {
      name: `${name}/b${bi}/boxes_2d`,
    });
    for (let ci = 0; ci < C; ci++) {
      const tag = `${name}/b${bi}c${ci}`;
      const sc = b.reshape(emitSlice(c.b, scores, [bi, ci, 0], [1, 1, N], `${tag}/scores`), [N], {
        name: `${tag}/scores_1d`,
      });
      const [s, n] = b.op(
        'NON_MAX_SUPPRESSION_V4',
        [bx, sc, maxOut, iouT, scoreT],
        {},
        {
          outputs: [
            { name: `${tag}/selected`, shape: [N], dtype: 'int32' },
            { name: `${tag}/count`, shape: [], dtype: 'int32' },
          ],
        },
      );
      sel.push(s!);
      counts.push(n!);
    }
  }
  const pack = (xs: number[], shape: number[], tag: string): number =>
    b.op(
      'PACK',
      xs,
      { valuesCount: xs.length, axis: 0 },
      { outputs: [{ name: `${name}/${tag}`, shape, dtype: 'int32' }] },
    )[0]!;
  const selected = pack(sel, [P, N], 'selected');
  let count = pack(counts, [P], 'counts');
  count = b.op(
    'MINIMUM',
    [count, perClassCap(c, N)],
    {},
    {
      outputs: [{ name: `${name}/capped_counts`, shape: [P], dtype: 'int32' }],
    },
  )[0]!;
  // output row of selection j of pair p: the pair's offset (exclusive cumulative count) + j
  const offset = b.op(
    'CUMSUM',
    [count, b.constant(`${name}/axis0`, 'int32', [], [0])],
    { exclusive: true, reverse: false },
    {
      outputs: [{ name: `${name}/offsets`, shape: [P], dtype: 'int32' }],
    },
  )[0]!;
  const j = b.constant(
    `${name}/j`,
    'int32',
    [1, N],
    Array.from({ length: N }, (_v, i) => i),
  );
  const row = b.op(
    'ADD',
    [b.reshape(offset, [P, 1], { name: `${name}/offsets_col` }), j],
    { fusedActivationFunction: 0 },
    {
      outputs: [{ name: `${name}/rows`, shape: [P, N], dtype: 'int32' }],
    },
  )[0]!;
  // selections past a pair's count get row −1 (valid · (row + 1) − 1), which no output row matches
  const valid = b.op(
    'LESS',
    [j, b.reshape(count, [P, 1], { name: `${name}/counts_col` })],
    {},
    {
      outputs: [{ name: `${name}/valid`, shape: [P, N], dtype: 'bool' }],
    },
  )[0]!;
  const int = (type: string, ins: number[], tag: string, shape: number[]): number =>
    b.op(
      type,
      ins,
      { fusedActivationFunction: 0 },
      { outputs: [{ name: `${name}/${tag}`, shape, dtype: 'int32' }] },
    )[0]!;
  const one = b.constant(`${name}/one`, 'int32', [], [1]);
  const rowOrNone = int(
    'SUB',
    [
      int(
        'MUL',
        [int('ADD', [row, one], 'rows_plus1', [P, N]), castTo(c, valid, 'int32', `${name}/valid_i32`)],
        'rows_valid',
        [P, N],
      ),
      one,
    ],
    'rows_or_none',
    [P, N],
  );
  const r = b.constant(
    `${name}/r`,
    'int32',
    [K, 1],
    Array.from({ length: K }, (_v, i) => i),
  );
  const match = b.op(
    'EQUAL',
    [b.reshape(rowOrNone, [1, P * N], { name: `${name}/rows_flat` }), r],
    {},
    {
      outputs: [{ name: `${name}/match`, shape: [K, P * N], dtype: 'bool' }],
    },
  )[0]!;
  const matchI = castTo(c, match, 'int32', `${name}/match_i32`);
  const axis1 = b.constant(`${name}/axis1`, 'int32', [1], [1]);
  const source = b.op(
    'ARG_MAX',
    [matchI, axis1],
    { outputType: TensorType.INT32 },
    {
      outputs: [{ name: `${name}/source`, shape: [K], dtype: 'int32' }],
    },
  )[0]!;
  const filled = b.op(
    'SUM',
    [matchI, axis1],
    { keepDims: true },
    {
      outputs: [{ name: `${name}/filled`, shape: [K, 1], dtype: 'int32' }],
    },
  )[0]!;
  const pairs = b.constant(
    `${name}/batch_class`,
    'int32',
    [P, N, 2],
    Array.from({ length: P * N }, (_v, q) => {
      const p = Math.floor(q / N);
      return [Math.floor(p / C), p % C];
    }).flat(),
  );
  const triples = b.reshape(
    b.concat([pairs, b.reshape(selected, [P, N, 1], { name: `${name}/selected_col` })], 2, {
      name: `${name}/triples`,
    }),
    [P * N, 3],
    { name: `${name}/triples_flat` },
  );
  const rows = b.op(
    'GATHER',
    [triples, source],
    { axis: 0, batchDims: 0 },
    {
      outputs: [{ name: `${name}/rows_gathered`, shape: [K, 3], dtype: 'int32' }],
    },
  )[0]!;
  const masked = b.op(
    'MUL',
    [rows, filled],
    { fusedActivationFunction: 0 },
    {
      outputs: [{ name: `${name}/rows_masked`, shape: [K, 3], dtype: 'int32' }],
    },
  )[0]!;
  return [tensorVal(castTo(c, masked, 'int64', c.out()))];
}

/** max_output_boxes_per_class as an int32 scalar in [0, n] (absent: 0, ONNX's default). */
function perClassCap(c: OnnxCtx, n: number): number {
  const name = `${c.name}/max_per_class`;
  if (!c.has(2)) return c.b.constant(name, 'int32', [], [0]);
  if (c.isConst(2)) return c.b.constant(name, 'int32', [], [Math.max(0, Math.min(n, c.const(2).v[0]!))]);
  const d = c.dtype(2);
  const v = c.b.reshape(c.tensor(2, null), [], { name: `${name}/scalar` });
  const lo = c.b.op(
    'MAXIMUM',
    [v, c.b.constant(`${name}/zero`, d, [], [0])],
    {},
    {
      outputs: [{ name: `${name}/nonneg`, shape: [], dtype: d }],
    },
  )[0]!;
  const hi = c.b.op(
    'MINIMUM',
    [lo, c.b.constant(`${name}/n`, d, [], [n])],
    {},
    {
      outputs: [{ name: `${name}/capped`, shape: [], dtype: d }],
    },
  )[0]!;
  return castTo(c, hi, 'int32', name);
}

/** center_point_box=1: [x_center, y_center, width, height] → TFLite's [y1, x1, y2, x2]. */
function cornersOf(c: OnnxCtx, boxes: number, shape: number[]): number {
  const name = `${c.name}/corners`;
  const half = [...shape.slice(0, -1), 2];
  const centre = emitSlice(c.b, boxes, [0, 0, 0], half, `${name}/centre`);
  const extent = emitSlice(c.b, boxes, [0, 0, 2], half, `${name}/extent`);
  const h = c.b.op(
    'MUL',
    [extent, c.b.constant(`${name}/half`, F32, [], [0.5])],
    { fusedActivationFunction: 0 },
    {
      outputs: [{ name: `${name}/half_extent`, shape: half, dtype: F32 }],
    },
  )[0]!;
  const lo = c.b.op(
    'SUB',
    [centre, h],
    { fusedActivationFunction: 0 },
    {
      outputs: [{ name: `${name}/min`, shape: half, dtype: F32 }],
    },
  )[0]!;
  const hi = c.b.op(
    'ADD',
    [centre, h],
    { fusedActivationFunction: 0 },
    {
      outputs: [{ name: `${name}/max`, shape: half, dtype: F32 }],
    },
  )[0]!;
  const xyxy = c.b.concat([lo, hi], 2, { name: `${name}/xyxy` });
  return c.b.op(
    'GATHER',
    [xyxy, c.b.constant(`${name}/order`, 'int32', [4], [1, 0, 3, 2])],
    { axis: 2, batchDims: 0 },
    { outputs: [{ name: `${name}/yxyx`, shape, dtype: F32 }] },
  )[0]!;
}

/**
 * Boxes of zero area: ONNX selects each once (IoU 0 with everything); TFLite's loop would select one again and again
 * (a selected box goes back into its heap and is only dropped by its IoU with itself, 0 here). Such boxes are moved to
 * unit boxes of their own far outside (IoU 0 with every other box, 1 with itself):
 * box · (1 − d) + far · d, d = [(y2 − y1)·(x2 − x1) = 0].
 */
function separateDegenerate(c: OnnxCtx, boxes: number, shape: number[]): number {
  const name = `${c.name}/degenerate`;
  const [B, N] = shape as [number, number];
  const f32 = (type: string, ins: number[], tag: string, s: number[]): number =>
    c.b.op(type, ins, ['MUL', 'ADD', 'SUB'].includes(type) ? { fusedActivationFunction: 0 } : {}, {
      outputs: [{ name: `${name}/${tag}`, shape: s, dtype: F32 }],
    })[0]!;
  const half = [B, N, 2];
  const one = [B, N, 1];
  const ext = f32(
    'SUB',
    [emitSlice(c.b, boxes, [0, 0, 2], half, `${name}/hi`), emitSlice(c.b, boxes, [0, 0, 0], half, `${name}/lo`)],
    'extent',
    half,
  );
  const area = f32(
    'MUL',
    [emitSlice(c.b, ext, [0, 0, 0], one, `${name}/dy`), emitSlice(c.b, ext, [0, 0, 1], one, `${name}/dx`)],
    'area',
    one,
  );
  const zero = c.b.op(
    'EQUAL',
    [area, c.b.constant(`${name}/zero`, F32, [], [0])],
    {},
    {
      outputs: [{ name: `${name}/is_zero`, shape: one, dtype: 'bool' }],
    },
  )[0]!;
  const d = castTo(c, zero, F32, `${name}/d`);
  const keep = f32('SUB', [c.b.constant(`${name}/one`, F32, [], [1]), d], 'keep', one);
  const FAR = -4e6;
  const far = c.b.constant(
    `${name}/far`,
    F32,
    [1, N, 4],
    Array.from({ length: N }, (_v, i) => [FAR - 2 * i, FAR, FAR - 2 * i + 1, FAR + 1]).flat(),
  );
  return f32('ADD', [f32('MUL', [boxes, keep], 'kept', shape), f32('MUL', [far, d], 'moved', shape)], 'boxes', shape);
}
