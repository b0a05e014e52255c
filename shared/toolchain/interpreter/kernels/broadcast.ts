import { broadcastShapes } from '../../ir/shape-inference.js';
import { numElements, stridesOf } from '../../ir/graph.js';

/**
 * For a broadcast binary op: the output shape and, when the inputs differ in shape, the flat index into each input for
 * every output element (computed once at prepare time). `null` indices mean the input has the output's shape.
 */
export function broadcastPlan(
  a: readonly number[],
  b: readonly number[],
): { shape: number[]; ia: Int32Array | null; ib: Int32Array | null } {
  const shape = broadcastShapes(a, b);
  const map = (s: readonly number[]): Int32Array | null => {
    if (s.length === shape.length && s.every((d, i) => d === shape[i])) return null;
    return broadcastIndex(s, shape);
  };
  return { shape, ia: map(a), ib: map(b) };
}

/** Flat index into an input of shape `s` for every element of the (broadcast) output shape `out`. */
export function broadcastIndex(s: readonly number[], out: readonly number[]): Int32Array {
  const n = numElements(out);
  const rank = out.length;
  const padded = [...new Array<number>(rank - s.length).fill(1), ...s];
  const st = stridesOf(padded).map((v, i) => (padded[i] === 1 ? 0 : v));
  const idx = new Int32Array(n);
  const ctr = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      ctr[d]!++;
      off += st[d]!;
      if (ctr[d]! < out[d]!) break;
      off -= st[d]! * out[d]!;
      ctr[d] = 0;
    }
  }
  return idx;
}
