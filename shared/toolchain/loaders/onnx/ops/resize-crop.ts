/**
 * Resize with coordinate_transformation_mode tf_crop_and_resize whose roi comes at run time: per axis, the source
 * coordinate of output position o is computed in the graph from the roi's start s and end e (ONNX's formula, with
 * W = scale · n the output width and n the input length):
 *   x = o · (n − 1) / (W − 1) · (e − s) + s · (n − 1)   (W > 1),   x = (e − s) · (n − 1) / 2 + s · (n − 1)   (W = 1),
 * the input is interpolated there as resize-runtime.ts does for run-time scales (neighbour GATHERs, weights), and
 * positions outside [0, n − 1] take the extrapolation value (SELECT_V2). Axes are resized one after the other, W
 * first as ONNX's reference recurses (interpolation weights sum to one, so an extrapolated inner value carries
 * through); batch and channel axes too when longer than 1, since the roi may crop them.
 */

import type { DType } from '../../../ir/dtype.js';
import type { OnnxCtx } from '../context.js';
import { F32 } from './common.js';
import { sampleAt } from './resize-runtime.js';
import type { ResizeMode } from './resize-tables.js';

/** NHWC physical axis of each ONNX (NCHW) axis. */
const PHYSICAL = [0, 3, 1, 2];

/**
 * Resizes the NHWC tensor `x` (ONNX shape `s` → `size`) with the roi of input 1 computed at run time; `scales` are
 * ONNX's per-axis scales.
 */
export function runtimeRoiResize(
  c: OnnxCtx,
  x0: number,
  s: number[],
  size: number[],
  scales: number[],
  m: ResizeMode,
): number {
  if (c.dtype(1) !== F32) throw c.refuse(`a ${c.dtype(1)} roi`, 'Give the roi as float32');
  if (c.shape(1).join() !== '8') throw c.refuse(`a roi of shape [${c.shape(1).join(', ')}] for 4 axes`);
  const roi = c.tensor(1, null);
  const axes = [3, 2, 1, 0].filter((i) => i >= 2 || s[i]! > 1 || size[i]! > 1);
  let x = x0;
  axes.forEach((i, step) => {
    const tag = `${c.name}/crop_axis${i}`;
    const a = { axis: PHYSICAL[i]!, inSize: s[i]!, outSize: size[i]! };
    const xo = cropCoordinates(c, roi, i, a.inSize, a.outSize, scales[i]! * a.inSize, tag);
    const last = step === axes.length - 1;
    const y = sampleAt(c, x, xo, a, m, tag, `${tag}/inside`);
    x = extrapolate(c, y, xo, a, m.extrapolation, tag, last ? c.out() : `${tag}/out`);
  });
  return x;
}

/** The source coordinates of the M output positions along ONNX axis i, as a float32 [M] tensor. */
function cropCoordinates(c: OnnxCtx, roi: number, i: number, n: number, M: number, width: number, tag: string): number {
  const b = c.b;
  let k = 0;
  const f = (type: string, ins: number[], shape: number[]): number =>
    b.op(type, ins, { fusedActivationFunction: 0 }, { outputs: [{ name: `${tag}/c${k++}`, shape, dtype: F32 }] })[0]!;
  const at = (j: number, what: string): number =>
    b.reshape(
      b.op(
        'SLICE',
        [
          roi,
          b.constant(`${tag}/${what}_begin`, 'int32', [1], [j]),
          b.constant(`${tag}/${what}_size`, 'int32', [1], [1]),
        ],
        {},
        { outputs: [{ name: `${tag}/${what}1`, shape: [1], dtype: F32 }] },
      )[0]!,
      [],
      { name: `${tag}/${what}` },
    );
  const start = at(i, 'start');
  const extent = f('SUB', [at(i + 4, 'end'), start], []);
  const offset = f('MUL', [start, b.constant(`${tag}/last`, F32, [], [n - 1])], []);
  const steps = Array.from({ length: M }, (_v, o) => (width === 1 ? (n - 1) / 2 : (o * (n - 1)) / (width - 1)));
  const along = f('MUL', [b.constant(`${tag}/steps`, F32, [M], steps), extent], [M]);
  return f('ADD', [along, offset], [M]);
}

/** `y` with the positions whose coordinate falls outside [0, n − 1] replaced by `value`. */
function extrapolate(
  c: OnnxCtx,
  y: number,
  xo: number,
  a: { axis: number; inSize: number; outSize: number },
  value: number,
  tag: string,
  outName: string,
): number {
  const b = c.b;
  const shape = b.g.tensor(y).shape;
  const along = shape.map((_d, i) => (i === a.axis ? a.outSize : 1));
  const dtype: DType = b.g.tensor(y).dtype;
  const fill = b.constant(`${tag}/extrapolation`, dtype, [], [value]);
  const outside = (type: 'LESS' | 'GREATER', bound: number, what: string): number =>
    b.reshape(
      b.op(
        type,
        [xo, b.constant(`${tag}/${what}_bound`, F32, [], [bound])],
        {},
        {
          outputs: [{ name: `${tag}/${what}_flat`, shape: [a.outSize], dtype: 'bool' }],
        },
      )[0]!,
      along,
      { name: `${tag}/${what}` },
    );
  const select = (mask: number, src: number, name: string): number =>
    b.op('SELECT_V2', [mask, fill, src], {}, { outputs: [{ name, shape, dtype }] })[0]!;
  const low = select(outside('LESS', 0, 'before'), y, `${tag}/before_filled`);
  return select(outside('GREATER', a.inSize - 1, 'after'), low, outName);
}
