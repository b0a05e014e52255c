import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

type Num = { [i: number]: number | bigint; length: number };

/**
 * ONE_HOT (one_hot.cc): for each index, `depth` values along `axis` (−1: last), on_value where the position equals
 * the index and off_value elsewhere; indices outside [0, depth) give all off. Depth must be a constant.
 */
export const oneHot: Kernel = (k) => {
  const depth = k.constInts(1)?.[0];
  if (depth === undefined) throw badOp(k.op, 'depth (input 1) must be a constant');
  const dt = k.dtype(2);
  if (!['float32', 'int32', 'int64', 'int8', 'uint8', 'bool'].includes(dt)) throw unsupportedType(k.op, dt);
  const is = k.shape(0);
  const axisOpt = (k.opts.axis as number | undefined) ?? -1;
  const axis = axisOpt < 0 ? is.length : axisOpt;
  if (axis > is.length) throw badOp(k.op, `axis ${axisOpt} is out of range for rank-${is.length} indices`);
  const outer = is.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = is.slice(axis).reduce((a, b) => a * b, 1);
  const idx = k.input(0) as unknown as Num;
  const on = k.input(2) as unknown as Num;
  const off = k.input(3) as unknown as Num;
  const y = k.output(0, [...is.slice(0, axis), depth, ...is.slice(axis)]) as unknown as Num;
  return () => {
    const vOn = on[0]!;
    const vOff = off[0]!;
    let o = 0;
    for (let a = 0; a < outer; a++)
      for (let d = 0; d < depth; d++)
        for (let b = 0; b < inner; b++) y[o++] = Number(idx[a * inner + b]!) === d ? vOn : vOff;
  };
};
