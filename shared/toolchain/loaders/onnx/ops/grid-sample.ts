/**
 * ONNX GridSample (2-D: X [N, C, H, W], a run-time grid [N, H_out, W_out, 2] of normalized (x, y)) composed from
 * TFLite builtins, each axis on its own:
 *
 *   1. denormalize: align_corners=1 → (g + 1)/2 · (L − 1); align_corners=0 → ((g + 1) · L − 1)/2;
 *   2. nearest: round half to even (ROUND, as std::nearbyint);
 *   3. nearest and linear: a coordinate outside [x_min, x_max] ([0, L − 1], or [−0.5, L − 0.5] with
 *      align_corners=0) is clamped to [0, L − 1] (border) or reflected into the range (reflection: x_min + the
 *      triangle wave min(t, 2r − t) of t = (x − x_min) mod 2r, r = x_max − x_min), as ONNX's reference does; cubic
 *      leaves the coordinate and pads each tap (PyTorch's bicubic, which onnxruntime follows; ONNX's Python reference
 *      clamps or reflects the coordinate first, which differs for cubic border/reflection outside the image), its
 *      reflection read modulo the period 2r; coordinates that read only padding (zeros, cubic border) are clamped
 *      to [−3, L + 2];
 *   4. taps x0 + o (x0 = ⌊x⌋; o ∈ {0} nearest, {0, 1} linear, {−1, 0, 1, 2} cubic) and their weights
 *      (1 − |t − o| linear; Keys' cubic with A = −0.75 of |t − o|, as a per-tap polynomial, t = x − x0);
 *   5. each integer tap through a constant table: the row/column it reads (clamped for border, reflected for
 *      reflection, anything for zeros) and, for zeros, whether it is inside (a 0/1 factor of its weight).
 *
 * The taps of both axes make flat row indices n·H·W + y·W + x (broadcast sums, [M, A, B]) into X as a channels-last
 * [N·H·W, C] table; one GATHER fetches every tap's C values, the products of the axis weights weigh them and SUM adds
 * the taps up.
 */

import type { DType } from '../../../ir/dtype.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { channelsLast } from '../layout.js';
import { F32, TT, typedOp } from './common.js';

const I32 = 'int32';
/** Integer taps are clamped to [−PAD, L − 1 + PAD] before the table lookups (zeros' coordinates stay in [−3, L + 2]). */
const PAD = 4;
/** Keys' cubic convolution parameter ONNX (and PyTorch) use. */
const CUBIC_A = -0.75;

type Mode = 'nearest' | 'linear' | 'cubic';
type Padding = 'zeros' | 'border' | 'reflection';

const MODES: Record<string, Mode> = {
  nearest: 'nearest',
  bilinear: 'linear',
  linear: 'linear',
  bicubic: 'cubic',
  cubic: 'cubic',
};
const PADDINGS: readonly Padding[] = ['zeros', 'border', 'reflection'];
const OFFSETS: Record<Mode, number[]> = { nearest: [0], linear: [0, 1], cubic: [-1, 0, 1, 2] };

/** ONNX's reflection of `x` into [lo, hi] (reference _gs_reflect). */
export function reflect(x: number, lo: number, hi: number): number {
  const rng = hi - lo;
  if (rng === 0) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Horner coefficients (highest power first) of Keys' kernel at distance d ∈ [0, 1] and d ∈ [1, 2]. */
const CUBIC_INNER = [CUBIC_A + 2, -(CUBIC_A + 3), 0, 1];
const CUBIC_OUTER = [CUBIC_A, -5 * CUBIC_A, 8 * CUBIC_A, -4 * CUBIC_A];

interface Taps {
  /** [M, A] int32: the row (or column) each tap reads. */
  idx: number;
  /** [M, A] float32 weights (with the zeros padding's 0/1 factor), or null when every tap weighs 1. */
  w: number | null;
}

export function gridSample(c: OnnxCtx): Value[] {
  if (c.rank(0) !== 4)
    throw c.refuse(`GridSample over ${c.rank(0) - 2} spatial dimensions`, 'Kiln converts 2-D GridSample only');
  for (const i of [0, 1])
    if (c.dtype(i) !== F32) throw c.refuse(`a ${c.dtype(i)} input ${i}`, 'X and grid are float32');
  const modeName = c.attr.s('mode', c.opset >= 20 ? 'linear' : 'bilinear');
  const mode = MODES[modeName];
  if (!mode) throw c.refuse(`mode=${modeName}`, 'GridSample modes are linear (bilinear), nearest and cubic (bicubic)');
  const padding = c.attr.s('padding_mode', 'zeros') as Padding;
  if (!PADDINGS.includes(padding))
    throw c.refuse(`padding_mode=${padding}`, 'GridSample padding modes are zeros, border and reflection');
  const ac = c.attr.i('align_corners', 0) === 1;
  const [N, C, H, W] = c.shape(0) as [number, number, number, number];
  const [gN, Ho, Wo, two] = c.shape(1) as [number, number, number, number];
  if (gN !== N || two !== 2)
    throw c.refuse(`a grid of shape [${c.shape(1).join(', ')}] for X [${c.shape(0).join(', ')}]`);
  const M = N * Ho * Wo;
  const name = c.name;
  const op = (type: string, ins: number[], shape: number[], tag: string, dtype: DType = F32, fields = {}): number =>
    typedOp(c, type, ins, shape, dtype, `${name}/${tag}`, fields);
  const k = (tag: string, dtype: DType, shape: number[], v: ArrayLike<number>): number =>
    c.b.constant(`${name}/${tag}`, dtype, shape, v);
  const arith = { fusedActivationFunction: 0 };

  const cl = channelsLast(4);
  const table = c.b.reshape(c.tensor(0, cl), [N * H * W, C], { name: `${name}/pixels` });
  const grid = c.b.reshape(c.tensor(1, null), [M, 2], { name: `${name}/grid` });
  const [gx, gy] = c.b.op(
    'SPLIT',
    [k('split_axis', I32, [], [1]), grid],
    { numSplits: 2 },
    {
      outputs: [
        { name: `${name}/gx`, shape: [M, 1], dtype: F32 },
        { name: `${name}/gy`, shape: [M, 1], dtype: F32 },
      ],
    },
  ) as [number, number];

  const axisTaps = (g: number, L: number, ax: string): Taps => {
    const t = (tag: string): string => `${ax}/${tag}`;
    const col = [M, 1];
    const scalar = (tag: string, v: number, dtype: DType = F32): number => k(t(tag), dtype, [], [v]);
    const bin = (type: string, a: number, b: number, tag: string, shape = col, dtype: DType = F32): number =>
      op(type, [a, b], shape, t(tag), dtype, ['ADD', 'SUB', 'MUL', 'DIV'].includes(type) ? arith : {});
    const clamp = (x: number, lo: number, hi: number, tag: string, shape = col, dtype: DType = F32): number =>
      bin(
        'MINIMUM',
        bin('MAXIMUM', x, scalar(`${tag}_lo`, lo, dtype), `${tag}_max`, shape, dtype),
        scalar(`${tag}_hi`, hi, dtype),
        tag,
        shape,
        dtype,
      );
    // 1. denormalize
    let x = bin(
      'ADD',
      bin('MUL', g, scalar('scale', ac ? (L - 1) / 2 : L / 2), 'scaled'),
      scalar('shift', (L - 1) / 2),
      'coord',
    );
    // 2. nearest rounds half to even
    if (mode === 'nearest') x = op('ROUND', [x], col, t('rounded'));
    // 3. padding of the coordinate
    const [lo, hi] = ac ? [0, L - 1] : [-0.5, L - 0.5];
    const period = 2 * (hi - lo);
    // cubic reflection reads the taps of x modulo the reflection's period (exact: FLOOR_MOD is)
    const span = mode === 'cubic' && padding === 'reflection' ? Math.max(period, 1) : L;
    if (padding === 'zeros' || (mode === 'cubic' && padding === 'border')) x = clamp(x, -3, L + 2, 'bounded');
    else if (mode === 'cubic') {
      if (period > 0) x = op('FLOOR_MOD', [x, scalar('period', period)], col, t('periodic'));
    } else {
      const inside = clamp(x, lo, hi, 'inside');
      let fixed = inside;
      if (padding === 'border') fixed = clamp(x, 0, L - 1, 'border');
      else if (period > 0) {
        const u = op(
          'FLOOR_MOD',
          [bin('SUB', x, scalar('lo', lo), 'from_lo'), scalar('period', period)],
          col,
          t('mod'),
        );
        const tri = bin('MINIMUM', u, bin('SUB', scalar('period2', period), u, 'back'), 'fold');
        fixed = bin('ADD', tri, scalar('lo2', lo), 'reflected');
      }
      const outside = op('NOT_EQUAL', [x, inside], col, t('outside'), 'bool');
      x = op('SELECT_V2', [outside, fixed, x], col, t('padded'));
    }
    // 4. taps and weights
    const x0 = mode === 'nearest' ? x : op('FLOOR', [x], col, t('floor'));
    const i0 = op('CAST', [x0], col, t('floor_int'), I32, { inDataType: TT.float32, outDataType: TT.int32 });
    const offs = OFFSETS[mode];
    const A = offs.length;
    const row = [M, A];
    const shifted = bin(
      'ADD',
      i0,
      k(
        t('tap_offsets'),
        I32,
        [1, A],
        offs.map((o) => o + PAD),
      ),
      'taps',
      row,
      I32,
    );
    const taps = clamp(shifted, 0, span - 1 + 2 * PAD, 'taps_bounded', row, I32);
    // 5. the tap tables
    const range = Array.from({ length: span + 2 * PAD }, (_v, j) => j - PAD);
    // zeros reads any pixel for a tap on the padding (its weight is 0): the nearest one, as border does
    const readAt = range.map((i) =>
      padding === 'reflection'
        ? Math.min(Math.max(Math.trunc(reflect(i, lo, hi)), 0), L - 1)
        : Math.min(Math.max(i, 0), L - 1),
    );
    const gather = (params: number, tag: string, dtype: DType): number =>
      op('GATHER', [params, taps], row, t(tag), dtype, { axis: 0, batchDims: 0 });
    const idx = gather(k(t('read_table'), I32, [readAt.length], readAt), 'read', I32);
    let w: number | null = null;
    if (mode !== 'nearest') {
      const frac = bin('SUB', x, x0, 'frac');
      const d = op('ABS', [bin('SUB', frac, k(t('tap_pos'), F32, [1, A], offs), 'dist_signed', row)], row, t('dist'));
      if (mode === 'linear') w = bin('SUB', scalar('one_w', 1), d, 'weights', row);
      else {
        const coef = (p: number): number =>
          k(
            t(`cubic${p}`),
            F32,
            [1, A],
            offs.map((o) => (o === 0 || o === 1 ? CUBIC_INNER : CUBIC_OUTER)[p]!),
          );
        let acc = coef(0);
        for (let p = 1; p < 4; p++) acc = bin('ADD', bin('MUL', acc, d, `horner${p}`, row), coef(p), `poly${p}`, row);
        w = acc;
      }
    }
    if (padding === 'zeros') {
      const valid = gather(
        k(
          t('inside_table'),
          F32,
          [range.length],
          range.map((i) => (i >= 0 && i < L ? 1 : 0)),
        ),
        'inside_taps',
        F32,
      );
      w = w === null ? valid : bin('MUL', w, valid, 'masked_weights', row);
    }
    return { idx, w };
  };

  const ty = axisTaps(gy, H, 'y');
  const tx = axisTaps(gx, W, 'x');
  const A = OFFSETS[mode].length;
  const T = A * A;
  const base = Int32Array.from({ length: M }, (_v, m) => Math.floor(m / (Ho * Wo)) * H * W);
  const rows = op(
    'ADD',
    [op('MUL', [ty.idx, k('row_stride', I32, [], [W])], [M, A], 'y/offset', I32, arith), k('batch', I32, [M, 1], base)],
    [M, A],
    'y/rows',
    I32,
    arith,
  );
  const flat = op(
    'ADD',
    [
      c.b.reshape(rows, [M, A, 1], { name: `${name}/y/rows3` }),
      c.b.reshape(tx.idx, [M, 1, A], { name: `${name}/x/cols3` }),
    ],
    [M, A, A],
    'tap_index',
    I32,
    arith,
  );
  const fetched = op(
    'GATHER',
    [table, c.b.reshape(flat, [M, T], { name: `${name}/tap_index_flat` })],
    [M, T, C],
    'fetched',
    F32,
    { axis: 0, batchDims: 0 },
  );
  let y: number;
  if (ty.w === null || tx.w === null) y = c.b.reshape(fetched, [M, C], { name: `${name}/picked` });
  else {
    const w = op(
      'MUL',
      [c.b.reshape(ty.w, [M, A, 1], { name: `${name}/y/w3` }), c.b.reshape(tx.w, [M, 1, A], { name: `${name}/x/w3` })],
      [M, A, A],
      'tap_weights',
      F32,
      arith,
    );
    const weighed = op(
      'MUL',
      [fetched, c.b.reshape(w, [M, T, 1], { name: `${name}/tap_weights_flat` })],
      [M, T, C],
      'weighed',
      F32,
      arith,
    );
    y = op('SUM', [weighed, k('sum_axis', I32, [1], [1])], [M, C], 'sum', F32, { keepDims: false });
  }
  return [tensorVal(c.b.reshape(y, [N, Ho, Wo, C], { name: c.out() }), cl)];
}
