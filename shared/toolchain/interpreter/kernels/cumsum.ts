/**
 * CUMSUM as TFLite's reference kernel: along one axis, a running sum in the element type (float32 rounding after
 * every addition), exclusive (the sum before the element) and/or reverse (from the end).
 */

import { numElements } from '../../ir/graph.js';
import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

export const cumsum: Kernel = (k) => {
  const d = k.dtype(0);
  if (d !== 'float32' && d !== 'int32') throw unsupportedType(k.op, d);
  const shape = k.shape(0);
  const x = k.input(0) as Float32Array | Int32Array;
  const y = k.output(0, shape) as Float32Array | Int32Array;
  const axisIn = k.input(1);
  const exclusive = Boolean(k.opts.exclusive);
  const reverse = Boolean(k.opts.reverse);
  const add = d === 'float32' ? (a: number, b: number) => Math.fround(a + b) : (a: number, b: number) => (a + b) | 0;
  return () => {
    let axis = Number(axisIn[0]);
    if (axis < 0) axis += shape.length;
    if (axis < 0 || axis >= shape.length) throw badOp(k.op, `axis ${axisIn[0]} of a rank-${shape.length} tensor`);
    const len = shape[axis]!;
    const inner = numElements(shape.slice(axis + 1));
    const outer = numElements(shape.slice(0, axis));
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let s = 0; s < len; s++) {
          const j = o * len * inner + (reverse ? len - 1 - s : s) * inner + i;
          if (exclusive) {
            y[j] = acc;
            acc = add(acc, x[j]!);
          } else {
            acc = add(acc, x[j]!);
            y[j] = acc;
          }
        }
      }
  };
};
