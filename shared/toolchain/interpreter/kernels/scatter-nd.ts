import { numElements, stridesOf } from '../../ir/graph.js';
import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

type Num = { [i: number]: number | bigint; length: number };

/**
 * SCATTER_ND (scatter_nd.cc): a zero tensor of the shape input 2 holds, with each slice of updates added at the
 * position its index row names (int32 indices; duplicate rows sum). The shape must be a constant.
 */
export const scatterNd: Kernel = (k) => {
  if (k.dtype(0) !== 'int32') throw unsupportedType(k.op, `${k.dtype(0)} indices`);
  const shape = k.constInts(2);
  if (!shape) throw badOp(k.op, 'the output shape (input 2) must be a constant');
  const dt = k.dtype(1);
  if (!['float32', 'int32', 'int64', 'int8', 'uint8'].includes(dt)) throw unsupportedType(k.op, dt);
  const is = k.shape(0);
  const q = is[is.length - 1] ?? 1;
  const rows = numElements(is.slice(0, -1));
  const slab = numElements(shape.slice(q));
  if (numElements(k.shape(1)) !== rows * slab)
    throw badOp(k.op, `updates [${k.shape(1).join(', ')}] do not fit ${rows} index rows of slices of ${slab}`);
  const st = stridesOf(shape);
  const idx = k.input(0) as Int32Array;
  const u = k.input(1) as unknown as Num;
  const y = k.output(0, shape) as unknown as Num;
  const big = dt === 'int64';
  return () => {
    for (let i = 0; i < y.length; i++) y[i] = big ? 0n : 0;
    for (let r = 0; r < rows; r++) {
      let off = 0;
      for (let d = 0; d < q; d++) {
        const i = idx[r * q + d]!;
        if (i < 0 || i >= shape[d]!) throw badOp(k.op, `index ${i} is out of range [0, ${shape[d]})`);
        off += i * st[d]!;
      }
      for (let j = 0; j < slab; j++)
        y[off + j] = big
          ? (y[off + j] as bigint) + (u[r * slab + j] as bigint)
          : (y[off + j] as number) + (u[r * slab + j] as number);
    }
  };
};
