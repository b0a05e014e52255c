/**
 * ONNX Resize whose scales come at run time (the output size is the one the model declares): ONNX maps coordinates by
 * the scale itself, so the per-axis source coordinates, neighbour indices and weights of resize-tables.ts are computed
 * in the graph from the scale (float32 arithmetic on constant [out] position vectors), then GATHER · weight + …
 * along the axis as with constant tables. Coordinates that land exactly between two pixels follow float32 rounding.
 */

import type { ModelBuilder } from '../../../ir/builder.js';
import type { DType } from '../../../ir/dtype.js';
import type { OnnxCtx } from '../context.js';
import { F32, castTo } from './common.js';
import type { ResizeMode } from './resize-tables.js';

interface Axis {
  /** Physical (NHWC) axis. */
  axis: number;
  /** ONNX axis (index into scales). */
  onnx: number;
  inSize: number;
  outSize: number;
}

export function runtimeScaleResize(
  c: OnnxCtx,
  x0: number,
  scalesAt: number,
  axes: Axis[],
  m: ResizeMode,
  name: string,
): number {
  if (m.ctm === 'tf_crop_and_resize') throw c.refuse('tf_crop_and_resize with scales computed at run time');
  if (m.excludeOutside && m.mode !== 'cubic') throw c.refuse('exclude_outside without cubic interpolation');
  const scales = c.tensor(scalesAt, null);
  if (c.b.g.tensor(scales).dtype !== F32) throw c.refuse(`${c.b.g.tensor(scales).dtype} scales`);
  // every axis, even one whose size stays: a scale in [1, 1 + 1/size) keeps the size but moves the coordinates
  let x = x0;
  axes.forEach((a, k) => {
    const tag = `${c.name}/axis${a.onnx}`;
    x = resizeAxisAtRunTime(c, x, scales, a, m, tag, k === axes.length - 1 ? name : `${tag}/out`);
  });
  return x;
}

/** Builders for one axis's ops: `f` an op of shape [M] by default, `k32` a float32 scalar, `fresh` a new name. */
function emitter(b: ModelBuilder, tag: string, M: number) {
  let k = 0;
  const fresh = (what: string): string => `${tag}/${what}${k++}`;
  const f = (type: string, ins: number[], shape = [M], dtype: DType = F32): number =>
    b.op(type, ins, ['ADD', 'SUB', 'MUL', 'DIV'].includes(type) ? { fusedActivationFunction: 0 } : {}, {
      outputs: [{ name: fresh('t'), shape, dtype }],
    })[0]!;
  const k32 = (v: number): number => b.constant(fresh('k'), F32, [], [v]);
  return { f, k32, fresh };
}

function resizeAxisAtRunTime(
  c: OnnxCtx,
  x: number,
  scales: number,
  a: Axis,
  m: ResizeMode,
  tag: string,
  outName: string,
): number {
  const b = c.b;
  const M = a.outSize;
  const n = a.inSize;
  const { f, k32, fresh } = emitter(b, tag, M);
  const vec = (v: number[]): number => b.constant(fresh('v'), F32, [M], v);
  const pos = Array.from({ length: M }, (_v, i) => i);
  const scale = b.reshape(
    b.op(
      'SLICE',
      [scales, b.constant(`${tag}/begin`, 'int32', [1], [a.onnx]), b.constant(`${tag}/size`, 'int32', [1], [1])],
      {},
      { outputs: [{ name: `${tag}/scale1`, shape: [1], dtype: F32 }] },
    )[0]!,
    [],
    { name: `${tag}/scale` },
  );
  // source coordinate of every output position
  let xo: number;
  switch (m.ctm) {
    case 'half_pixel':
      xo = f('SUB', [f('DIV', [vec(pos.map((i) => i + 0.5)), scale]), k32(0.5)]);
      break;
    case 'pytorch_half_pixel':
      if (M === 1) throw c.refuse('pytorch_half_pixel to a size of 1 with scales computed at run time');
      xo = f('SUB', [f('DIV', [vec(pos.map((i) => i + 0.5)), scale]), k32(0.5)]);
      break;
    case 'asymmetric':
      xo = f('DIV', [vec(pos), scale]);
      break;
    case 'tf_half_pixel_for_nn':
      xo = f('DIV', [vec(pos.map((i) => i + 0.5)), scale]);
      break;
    case 'align_corners':
      // ONNX divides by scale · in − 1 (the unrounded output size); one output position maps to 0
      xo =
        M === 1
          ? vec([0])
          : f('DIV', [vec(pos.map((i) => i * (n - 1))), f('SUB', [f('MUL', [scale, k32(n)], []), k32(1)], [])]);
      break;
    default:
      throw c.refuse(`coordinate_transformation_mode ${m.ctm} with scales computed at run time`);
  }
  return sampleAt(c, x, xo, a, m, tag, outName);
}

/**
 * Interpolates physical axis `a.axis` of `x` at the source coordinates `xo` (a float32 [a.outSize] tensor): the
 * neighbours of each coordinate by the interpolation mode, GATHERed and weighted.
 */
export function sampleAt(
  c: OnnxCtx,
  x: number,
  xo: number,
  a: Pick<Axis, 'axis' | 'inSize' | 'outSize'>,
  m: ResizeMode,
  tag0: string,
  outName: string,
): number {
  const b = c.b;
  const M = a.outSize;
  const n = a.inSize;
  const tag = `${tag0}/sample`;
  const { f, k32, fresh } = emitter(b, tag, M);
  const clampIdx = (v: number): number =>
    castTo(c, f('MINIMUM', [f('MAXIMUM', [v, k32(0)]), k32(n - 1)]), 'int32', fresh('idx'));
  const inShape = b.g.tensor(x).shape;
  const shape = inShape.map((d, i) => (i === a.axis ? M : d));
  const along = inShape.map((_d, i) => (i === a.axis ? M : 1));
  const gather = (idx: number, last: boolean): number =>
    b.op(
      'GATHER',
      [x, idx],
      { axis: a.axis, batchDims: 0 },
      {
        outputs: [{ name: last ? outName : fresh('g'), shape, dtype: F32 }],
      },
    )[0]!;
  if (m.mode === 'nearest') {
    const rounded: Record<string, () => number> = {
      round_prefer_floor: () => f('CEIL', [f('SUB', [xo, k32(0.5)])]),
      round_prefer_ceil: () => f('FLOOR', [f('ADD', [xo, k32(0.5)])]),
      floor: () => f('FLOOR', [xo]),
      ceil: () => f('CEIL', [xo]),
    };
    const r = rounded[m.nearestMode];
    if (!r) throw c.refuse(`nearest_mode ${m.nearestMode}`);
    return gather(clampIdx(r()), true);
  }
  const x0 = f('FLOOR', [xo]);
  const ratio = f('SUB', [xo, x0]);
  const taps = m.mode === 'cubic' ? [-1, 0, 1, 2] : [0, 1];
  let w: number[];
  if (m.mode === 'cubic') {
    const A = m.cubicA;
    const s = f('SUB', [k32(1), ratio]);
    // ((A·t − 5A)·t + 8A)·t − 4A for t = r + 1 and 2 − r; ((A + 2)·t − (A + 3))·t·t + 1 for t = r and 1 − r
    const outer = (t: number): number =>
      f('SUB', [
        f('MUL', [f('ADD', [f('MUL', [f('SUB', [f('MUL', [t, k32(A)]), k32(5 * A)]), t]), k32(8 * A)]), t]),
        k32(4 * A),
      ]);
    const inner = (t: number): number =>
      f('ADD', [f('MUL', [f('MUL', [f('SUB', [f('MUL', [t, k32(A + 2)]), k32(A + 3)]), t]), t]), k32(1)]);
    w = [outer(f('ADD', [ratio, k32(1)])), inner(ratio), inner(s), outer(f('ADD', [s, k32(1)]))];
    if (m.excludeOutside) {
      w = w.map((wk, i) => {
        const at = f('ADD', [x0, k32(taps[i]!)]);
        const inside = f('MUL', [
          castTo(c, f('GREATER_EQUAL', [at, k32(0)], [M], 'bool'), F32, `${tag}/in_lo${i}`),
          castTo(c, f('LESS', [at, k32(n)], [M], 'bool'), F32, `${tag}/in_hi${i}`),
        ]);
        return f('MUL', [wk, inside]);
      });
      const sum = w.slice(1).reduce((p, q) => f('ADD', [p, q]), w[0]!);
      w = w.map((wk) => f('DIV', [wk, sum]));
    }
  } else w = [f('SUB', [k32(1), ratio]), ratio];
  let acc: number | undefined;
  taps.forEach((t, i) => {
    const g = gather(clampIdx(t === 0 ? x0 : f('ADD', [x0, k32(t)])), false);
    const weight = b.reshape(w[i]!, along, { name: fresh('w') });
    const last = i === taps.length - 1;
    const term = b.op(
      'MUL',
      [g, weight],
      { fusedActivationFunction: 0 },
      {
        outputs: [{ name: fresh('wg'), shape, dtype: F32 }],
      },
    )[0]!;
    acc =
      acc === undefined
        ? term
        : b.op(
            'ADD',
            [acc, term],
            { fusedActivationFunction: 0 },
            {
              outputs: [{ name: last ? outName : fresh('sum'), shape, dtype: F32 }],
            },
          )[0]!;
  });
  return acc!;
}
