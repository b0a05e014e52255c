import { numElements } from '../../../ir/graph.js';
import type { DType } from '../../../ir/dtype.js';
import type { OnnxCtx } from '../context.js';

/** Broadcasting binary kernels of TFLite 2.9 take up to 4 dimensions (…4DSlow). */
const MAX_BROADCAST_RANK = 4;

/**
 * `type`(x, k) where k is a scalar or a vector along x's last axis: past TFLite's broadcast rank, x is viewed as
 * [rows, last] (or flat, for a scalar) around the op and reshaped back.
 */
export function binaryWithConst(
  c: OnnxCtx,
  type: string,
  x: number,
  k: number,
  dtype: DType,
  name: string,
  fields: Record<string, unknown> = {},
): number {
  const shape = c.b.g.tensor(x).shape;
  const ks = c.b.g.tensor(k).shape;
  const emit = (src: number, s: number[], n: string): number =>
    c.b.op(type, [src, k], fields, { outputs: [{ name: n, shape: s, dtype }] })[0]!;
  if (shape.length <= MAX_BROADCAST_RANK) return emit(x, shape, name);
  const n = numElements(shape);
  const last = numElements(ks) > 1 ? shape[shape.length - 1]! : 0;
  const view = last ? [n / last, last] : [n];
  const flat = c.b.reshape(x, view, { name: `${name}/view` });
  return c.b.reshape(emit(flat, view, `${name}/flat`), shape, { name });
}
