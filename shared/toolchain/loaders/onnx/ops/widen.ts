/**
 * Integer arithmetic TFLite's kernels do not take (uint8/int8/int16 operands without quantization, int64 Pow, C-style
 * fmod): the operands are CAST to a wider type TFLite computes in, the op converted as usual, and the result CAST
 * back. TFLite's CAST is a C++ static_cast, so int32 → uint8/int8/int16 keeps the low bits: ONNX's (numpy's)
 * wrap-around. Results computed in float32 are cast to int32 first (truncation toward zero, exact for the 8- and
 * 16-bit ranges) and then wrapped to the narrow type.
 */

import type { DType } from '../../../ir/dtype.js';
import { constVal, dtypeOf, logicalShape, tensorVal, type OnnxCtx, type Value } from '../context.js';
import { applyPerm, constInLayout, emitConst } from '../layout.js';
import { ARITH, F32, binary, castTo, operands, type OnnxOpConverter } from './common.js';

/** The 8- and 16-bit integer types TFLite's float/int32 kernels refuse without quantization parameters. */
export const NARROW: readonly DType[] = ['uint8', 'int8', 'int16'];

/** `c` with inputs replaced (by index) and outputs renamed under `tag`, for a converter run on widened operands. */
export function withInputs(c: OnnxCtx, sub: Map<number, Value>, tag: string): OnnxCtx {
  const value = (i: number): Value => sub.get(i) ?? c.value(i);
  const ctx: OnnxCtx = {
    ...c,
    value,
    isConst: (i) => value(i).kind === 'const',
    const: (i) => {
      const v = value(i);
      return v.kind === 'const' ? v.c : c.const(i);
    },
    ints: (i) => Array.from(ctx.const(i).v),
    shape: (i) => logicalShape(c.b, value(i)),
    rank: (i) => logicalShape(c.b, value(i)).length,
    dtype: (i) => dtypeOf(c.b, value(i)),
    perm: (i) => {
      const v = value(i);
      return v.kind === 'tensor' ? v.perm : null;
    },
    tensor: (i, perm = null, as) => {
      const v = sub.get(i);
      if (!v) return c.tensor(i, perm, as);
      if (v.kind === 'tensor') return c.materialize(v, perm);
      return emitConst(c.b, `${c.name}/in${i}/${tag}`, constInLayout(v.c, perm), as ?? v.c.dtype);
    },
    out: (k = 0) => `${c.name}/${tag}:${k}`,
  };
  return ctx;
}

/** Input i as `wide`: a CAST of a tensor, or the constant retyped. */
export function widenInput(c: OnnxCtx, i: number, wide: DType): Value {
  const v = c.value(i);
  if (v.kind === 'const') return constVal({ ...v.c, dtype: wide });
  return tensorVal(castTo(c, v.id, wide, `${c.name}/in${i}_${wide}`), v.perm);
}

/** Casts a result computed in a wider type back to `to`, float32 through int32 (truncation, then wrap-around). */
export function narrowBack(c: OnnxCtx, id: number, to: DType, name: string): number {
  const from = c.b.g.tensor(id).dtype;
  if (from === to) return id;
  const mid = from === F32 && to !== 'int32' ? castTo(c, id, 'int32', `${name}/trunc`) : id;
  return castTo(c, mid, to, name);
}

/**
 * `conv` run on inputs of the types in `from` widened to `wide` (the other inputs as they are); outputs that come out
 * `wide` are cast back to the first widened input's type. Inputs of any other type go to `conv` unchanged (which
 * converts or refuses them as before).
 */
export function widened(
  conv: OnnxOpConverter,
  wide: DType,
  from: readonly DType[] = NARROW,
  inputs?: number[],
): OnnxOpConverter {
  return (c) => {
    const idx = inputs ?? Array.from({ length: c.n }, (_v, i) => i);
    const narrow = idx.filter((i) => c.has(i) && from.includes(c.dtype(i)));
    if (narrow.length === 0) return conv(c);
    const orig = c.dtype(narrow[0]!);
    const sub = new Map(narrow.map((i) => [i, widenInput(c, i, wide)] as const));
    const outs = conv(withInputs(c, sub, `as_${wide}`));
    return outs.map((v, k) => {
      if (v.kind === 'const' || c.b.g.tensor(v.id).dtype !== wide) return v;
      return tensorVal(narrowBack(c, v.id, orig, c.out(k)), v.perm);
    });
  };
}

/**
 * Mod with fmod=1, C's remainder (the dividend's sign): FLOOR_MOD(|a|, |b|) · (1 − 2·[a < 0]), the magnitudes as
 * MAXIMUM(x, −x). FLOOR_MOD of non-negative operands is the plain remainder, exact in float32 too.
 */
export function truncMod(c: OnnxCtx, a: number, b: number, shape: number[], name: string): number {
  const dtype = c.b.g.tensor(a).dtype;
  const op = (type: string, ins: number[], tag: string, s: number[], d = dtype): number =>
    c.b.op(type, ins, ['MUL', 'ADD'].includes(type) ? { fusedActivationFunction: 0 } : {}, {
      outputs: [{ name: tag === 'out' ? name : `${name}/${tag}`, shape: s, dtype: d }],
    })[0]!;
  const abs = (x: number, tag: string): number => {
    const s = c.b.g.tensor(x).shape;
    return op('MAXIMUM', [x, op('NEG', [x], `${tag}_minus`, s)], `${tag}_abs`, s);
  };
  const m = op('FLOOR_MOD', [abs(a, 'a'), abs(b, 'b')], 'rem', shape);
  const as = c.b.g.tensor(a).shape;
  const neg = castTo(
    c,
    op('LESS', [a, c.b.constant(`${name}/zero`, dtype, [], [0])], 'a_neg', as, 'bool'),
    dtype,
    `${name}/a_neg_n`,
  );
  const sign = op(
    'ADD',
    [
      op('MUL', [neg, c.b.constant(`${name}/minus2`, dtype, [], [-2])], 'a_neg_2', as),
      c.b.constant(`${name}/one`, dtype, [], [1]),
    ],
    'a_sign',
    as,
  );
  return op('MUL', [m, sign], 'out', shape);
}

/** Mod: FLOOR_MOD (fmod=0, the divisor's sign), or the C remainder (fmod=1) built from FLOOR_MOD of magnitudes. */
export const mod: OnnxOpConverter = (c) => {
  if (c.attr.i('fmod', 0) !== 1) return binary('FLOOR_MOD')(c);
  if (!ARITH.includes(c.dtype(0)))
    throw c.refuse(`fmod=1 on ${c.dtype(0)}`, 'TFLite computes float32, int32 and int64 remainders');
  const { ids, perm, shape } = operands(c, [0, 1]);
  return [tensorVal(truncMod(c, ids[0]!, ids[1]!, applyPerm(shape, perm), c.out()), perm)];
};
