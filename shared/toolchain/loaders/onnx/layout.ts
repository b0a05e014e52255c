import type { ModelBuilder } from '../../ir/builder.js';
import { numElements, stridesOf } from '../../ir/graph.js';
import { constTyped, type ConstVal } from './tensor.js';

/**
 * Layouts. ONNX computes channels-first (NCHW); TFLite's convolutions, pools and resizes want channels-last (NHWC). A
 * converted tensor carries `perm`: its IR (physical) dimension i is ONNX (logical) dimension perm[i]; null is the ONNX
 * layout itself. Ops that need channels-last ask for it, layout-agnostic ops (element-wise, activations) pass the
 * permutation on, ops with axes remap them, and a TRANSPOSE is emitted only where an op needs the ONNX order back
 * (graph outputs, reshapes that move data between dimensions). So a CNN is transposed once at its input (or not at
 * all when its inputs are declared NHWC) and once at an output that still has channels.
 */
export type Perm = number[] | null;

export const identityPerm = (rank: number): number[] => Array.from({ length: rank }, (_v, i) => i);

/** Channels-last for a rank-r tensor: [0, 2, …, r−1, 1]. */
export const channelsLast = (rank: number): number[] =>
  rank < 3 ? identityPerm(rank) : [0, ...identityPerm(rank).slice(2), 1];

export const isIdentity = (p: Perm): boolean => p === null || p.every((x, i) => x === i);
export const norm = (p: Perm): Perm => (isIdentity(p) ? null : p);

export function inversePerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((x, i) => (inv[x] = i));
  return inv;
}

/** Physical shape of a logical shape under perm. */
export const applyPerm = (shape: number[], p: Perm): number[] => (p ? p.map((x) => shape[x]!) : [...shape]);
/** Logical shape of a physical shape under perm. */
export function unapplyPerm(phys: number[], p: Perm): number[] {
  if (!p) return [...phys];
  const out = new Array<number>(phys.length);
  p.forEach((x, i) => (out[x] = phys[i]!));
  return out;
}

/** Does permuting `shape` by `p` only move dimensions of extent 1 (so that a RESHAPE does the same)? */
export function onlyMovesUnitDims(shape: number[], p: number[]): boolean {
  let last = -1;
  for (const x of p) {
    if (shape[x] === 1) continue;
    if (x < last) return false;
    last = x;
  }
  return true;
}

/** out = transpose(v, perm): out dimension i is input dimension perm[i]. */
export function permuteValues<T extends Float32Array | Float64Array>(v: T, shape: number[], perm: number[]): T {
  const outShape = perm.map((p) => shape[p]!);
  const st = stridesOf(shape);
  const ps = perm.map((p) => st[p]!);
  const out = new (v.constructor as new (n: number) => T)(v.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = v[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      src += ps[d]!;
      if (idx[d]! < outShape[d]!) break;
      src -= ps[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** A constant in physical layout `p` (after padding its rank to `rank` with leading 1s, as broadcasting does). */
export function constInLayout(c: ConstVal, p: Perm, rank = c.shape.length): ConstVal {
  const shape = [...new Array<number>(Math.max(0, rank - c.shape.length)).fill(1), ...c.shape];
  if (!p || onlyMovesUnitDims(shape, p)) return { ...c, shape: applyPerm(shape, p) };
  return { dtype: c.dtype, shape: applyPerm(shape, p), v: permuteValues(c.v, shape, p) };
}

export function emitConst(b: ModelBuilder, name: string, c: ConstVal, as = c.dtype): number {
  const { dtype, values } = constTyped(c, as);
  if (numElements(c.shape) !== c.v.length) throw new Error(`constant ${name}: ${c.v.length} values for [${c.shape}]`);
  return b.constant(name, dtype, c.shape, values as ArrayLike<number>);
}
