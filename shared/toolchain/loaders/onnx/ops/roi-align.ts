/**
 * ONNX RoiAlign (X [N, C, H, W], run-time rois [R, 4] of (x1, y1, x2, y2) and batch_indices [R]) composed from TFLite
 * builtins, following ONNX's reference implementation. A fixed sampling_ratio s gives every bin s × s sample points,
 * so the sample count is static; the reference's bilinear pre-computation is separable into the two axes:
 *
 *   per axis, for each ROI r and sample k (bin p, sub-sample i): c = start_r + bin_r · (p + (i + 0.5)/s), with
 *   start = x1 · spatial_scale − offset (0.5 for half_pixel, 0 for output_half_pixel), bin = size / output size
 *   (output_half_pixel: size at least 1); a sample outside [−1, L] weighs 0; else c' = min(max(c, 0), L − 1),
 *   low = ⌊c'⌋, high = min(low + 1, L − 1), weights (1 − (c' − low), c' − low).
 *
 * Rows (y taps) and columns (x taps) make flat indices b·H·W + y·W + x into X as a channels-last [N·H·W, C] table
 * (broadcast ADD), one GATHER fetches every tap, the products of the axis weights weigh them, and the taps and samples
 * of each bin are summed and divided by s² (mode avg) or reduced to their maximum (mode max: the maximum of the
 * weighted taps, as the reference computes it).
 */

import type { DType } from '../../../ir/dtype.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { channelsLast } from '../layout.js';
import { F32, TT, castTo, typedOp } from './common.js';

const I32 = 'int32';

interface AxisTaps {
  /** [R, P·s·2] int32: the row (or column) of each sample's low and high tap. */
  idx: number;
  /** [R, P·s·2] float32: their weights (0 for samples outside the feature map). */
  w: number;
}

export function roiAlign(c: OnnxCtx): Value[] {
  if (c.rank(0) !== 4) throw c.refuse(`a rank-${c.rank(0)} input`, 'RoiAlign takes X as [N, C, H, W]');
  if (c.dtype(0) !== F32 || c.dtype(1) !== F32) throw c.refuse(`${c.dtype(0)} X or ${c.dtype(1)} rois`);
  if (c.dtype(2) !== 'int64' && c.dtype(2) !== I32) throw c.refuse(`${c.dtype(2)} batch_indices`);
  const mode = c.attr.s('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') throw c.refuse(`mode=${mode}`, 'RoiAlign modes are avg and max');
  const ctm = c.attr.s('coordinate_transformation_mode', c.opset >= 16 ? 'half_pixel' : 'output_half_pixel');
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel')
    throw c.refuse(`coordinate_transformation_mode=${ctm}`, 'it is half_pixel or output_half_pixel');
  const halfPixel = ctm === 'half_pixel';
  const s = c.attr.i('sampling_ratio', 0);
  if (s <= 0)
    throw c.refuse(
      `sampling_ratio=${s} (an adaptive number of samples per bin, from each ROI's size at run time)`,
      'Export with a fixed sampling_ratio > 0',
    );
  const oh = c.attr.i('output_height', 1);
  const ow = c.attr.i('output_width', 1);
  const scale = c.attr.f('spatial_scale', 1);
  const [N, C, H, W] = c.shape(0) as [number, number, number, number];
  const [R, four] = c.shape(1) as [number, number];
  if (four !== 4 || c.shape(2).join() !== `${R}`)
    throw c.refuse(`rois [${c.shape(1).join(', ')}] with batch_indices [${c.shape(2).join(', ')}]`);
  const name = c.name;
  const arith = { fusedActivationFunction: 0 };
  const op = (type: string, ins: number[], shape: number[], tag: string, dtype: DType = F32, fields = {}): number =>
    typedOp(c, type, ins, shape, dtype, `${name}/${tag}`, fields);
  const bin = (type: string, a: number, b: number, shape: number[], tag: string, dtype: DType = F32): number =>
    op(type, [a, b], shape, tag, dtype, ['ADD', 'SUB', 'MUL', 'DIV'].includes(type) ? arith : {});
  const k = (tag: string, dtype: DType, shape: number[], v: ArrayLike<number>): number =>
    c.b.constant(`${name}/${tag}`, dtype, shape, v);
  const scalar = (tag: string, v: number, dtype: DType = F32): number => k(tag, dtype, [], [v]);
  const reshape = (x: number, shape: number[], tag: string): number =>
    c.b.reshape(x, shape, { name: `${name}/${tag}` });

  const cl = channelsLast(4);
  const table = reshape(c.tensor(0, cl), [N * H * W, C], 'pixels');
  const col = [R, 1];
  const corners = c.b.op(
    'SPLIT',
    [scalar('split_axis', 1, I32), c.tensor(1, null)],
    { numSplits: 4 },
    {
      outputs: ['x1', 'y1', 'x2', 'y2'].map((n) => ({ name: `${name}/${n}`, shape: col, dtype: F32 })),
    },
  ) as [number, number, number, number];

  const axis = (from: number, to: number, L: number, P: number, ax: string): AxisTaps => {
    const t = (tag: string): string => `${ax}/${tag}`;
    const at = (x: number, tag: string): number =>
      bin(
        'SUB',
        bin('MUL', x, scalar(t(`${tag}_scale`), scale), col, t(`${tag}_scaled`)),
        scalar(t(`${tag}_offset`), halfPixel ? 0.5 : 0),
        col,
        t(tag),
      );
    const start = at(from, 'start');
    let size = bin('SUB', at(to, 'end'), start, col, t('size'));
    if (!halfPixel) size = bin('MAXIMUM', size, scalar(t('min_size'), 1), col, t('size_at_least_1'));
    const step = bin('DIV', size, scalar(t('bins'), P), col, t('bin_size'));
    const S = P * s;
    const row = [R, S];
    const pos = Float32Array.from({ length: S }, (_v, j) => Math.floor(j / s) + ((j % s) + 0.5) / s);
    const coord = bin(
      'ADD',
      start,
      bin('MUL', step, k(t('sample_pos'), F32, [1, S], pos), row, t('sample_off')),
      row,
      t('coord'),
    );
    const clamp = (x: number, lo: number, hi: number, tag: string, dtype: DType = F32): number =>
      bin(
        'MINIMUM',
        bin('MAXIMUM', x, scalar(t(`${tag}_lo`), lo, dtype), row, t(`${tag}_max`), dtype),
        scalar(t(`${tag}_hi`), hi, dtype),
        row,
        t(tag),
        dtype,
      );
    const inside = op('EQUAL', [coord, clamp(coord, -1, L, 'within')], row, t('inside'), 'bool');
    const valid = castTo(c, inside, F32, `${name}/${t('valid')}`);
    const cc = clamp(coord, 0, L - 1, 'clamped');
    const low = op('FLOOR', [cc], row, t('low'));
    const ly = bin('MUL', bin('SUB', cc, low, row, t('frac')), valid, row, t('w_high'));
    const hy = bin('SUB', valid, ly, row, t('w_low'));
    const lowI = op('CAST', [low], row, t('low_int'), I32, { inDataType: TT.float32, outDataType: TT.int32 });
    const highI = bin(
      'MINIMUM',
      bin('ADD', lowI, scalar(t('one_int'), 1, I32), row, t('low_plus_1'), I32),
      scalar(t('last'), L - 1, I32),
      row,
      t('high_int'),
      I32,
    );
    const pair = (a: number, b: number, tag: string, dtype: DType): number =>
      reshape(
        op(
          'CONCATENATION',
          [reshape(a, [R, S, 1], t(`${tag}_a`)), reshape(b, [R, S, 1], t(`${tag}_b`))],
          [R, S, 2],
          t(tag),
          dtype,
          { axis: 2, fusedActivationFunction: 0 },
        ),
        [R, S * 2],
        t(`${tag}_flat`),
      );
    return { idx: pair(lowI, highI, 'taps', I32), w: pair(hy, ly, 'weights', F32) };
  };

  const [x1, y1, x2, y2] = corners;
  const ys = axis(y1, y2, H, oh, 'y');
  const xs = axis(x1, x2, W, ow, 'x');
  const Ty = s * 2;
  const Tx = s * 2;
  const Y = oh * Ty;
  const X = ow * Tx;
  const batch = op(
    'MUL',
    [castTo(c, c.tensor(2, null), I32, `${name}/batch_int`), scalar('plane', H * W, I32)],
    [R],
    'batch_base',
    I32,
    arith,
  );
  const rows = bin(
    'ADD',
    bin('MUL', ys.idx, scalar('row_stride', W, I32), [R, Y], 'rows', I32),
    reshape(batch, [R, 1], 'batch_col'),
    [R, Y],
    'rows_in_batch',
    I32,
  );
  const flat = bin(
    'ADD',
    reshape(rows, [R, Y, 1], 'rows3'),
    reshape(xs.idx, [R, 1, X], 'cols3'),
    [R, Y, X],
    'tap_index',
    I32,
  );
  const fetched = op('GATHER', [table, flat], [R, Y, X, C], 'fetched', F32, { axis: 0, batchDims: 0 });
  const w = bin('MUL', reshape(ys.w, [R, Y, 1], 'wy3'), reshape(xs.w, [R, 1, X], 'wx3'), [R, Y, X], 'tap_weights');
  const weighed = bin('MUL', fetched, reshape(w, [R, Y, X, 1], 'tap_weights4'), [R, Y, X, C], 'weighed');
  const reduceType = mode === 'avg' ? 'SUM' : 'REDUCE_MAX';
  const reduce = (x: number, shape: number[], out: number[], tag: string): number =>
    op(reduceType, [reshape(x, shape, `${tag}_view`), k(`${tag}_axis`, I32, [1], [1])], out, tag, F32, {
      keepDims: false,
    });
  const overY = reduce(weighed, [R * oh, Ty, ow * Tx * C], [R * oh, ow * Tx * C], 'reduce_y');
  let y = reduce(overY, [R * oh * ow, Tx, C], [R * oh * ow, C], 'reduce_x');
  if (mode === 'avg') y = bin('DIV', y, scalar('count', s * s), [R * oh * ow, C], 'average');
  return [tensorVal(c.b.reshape(y, [R, oh, ow, C], { name: c.out() }), cl)];
}
