import { badOp } from '../errors.js';
import type { Kernel } from '../kernel.js';

/**
 * TOPK_V2 (topk_v2.cc): the k largest values along the last axis of each row, largest first, and their int32
 * indices. Equal values keep the lower index first, as TFLite's TopContainer orders them. Quantized values are
 * compared as stored (one scale per tensor), so the output keeps the input's scale and zero point.
 */
export const topkV2: Kernel = (k) => {
  const s = k.shape(0);
  const kk = k.constInts(1);
  if (!kk) throw badOp(k.op, 'k (input 1) must be a constant');
  const top = kk[0]!;
  const n = s[s.length - 1] ?? 1;
  if (top < 0 || top > n) throw badOp(k.op, `k ${top} is out of range [0, ${n}]`);
  const outShape = [...s.slice(0, -1), top];
  const x = k.input(0) as unknown as ArrayLike<number>;
  const values = k.output(0, outShape) as unknown as { [i: number]: number };
  const indices = k.output(1, outShape) as Int32Array;
  const rows = n === 0 ? 0 : x.length / n;
  const order = Array.from({ length: n }, (_v, i) => i);
  return () => {
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => x[base + b]! - x[base + a]! || a - b);
      for (let j = 0; j < top; j++) {
        values[r * top + j] = x[base + order[j]!]!;
        indices[r * top + j] = order[j]!;
      }
    }
  };
};
