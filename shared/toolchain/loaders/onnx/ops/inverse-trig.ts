/**
 * Inverse trigonometric ONNX ops. TFLite's ATAN2 builtin (code 156) is newer than the 2.9 runtime Kiln targets (it
 * refuses the op code), so atan is a polynomial: on z = min(|x|, 1/|x|) ∈ [0, 1], atan(z) = z·P(z²) with
 * Abramowitz & Stegun 4.4.49's coefficients (absolute error ≤ 2e-8), atan(|x|) = π/2 − atan(1/|x|) above 1, and the
 * sign restored. asin(x) = atan(x / √((1−x)(1+x))) (±1 → ±π/2 through ±∞; |x| > 1 → NaN, as ONNX gives) and
 * acos(x) = π/2 − asin(x).
 */

import type { OnnxCtx } from '../context.js';
import { F32, composite, type OnnxOpConverter } from './common.js';

const A = [
  1, -0.3333314528, 0.1999355085, -0.1420889944, 0.1065626393, -0.07528964, 0.0429096138, -0.0161657367, 0.0028662257,
];

const HALF_PI = Math.PI / 2;

function k(c: OnnxCtx, what: string, v: number): number {
  return c.b.constant(`${c.name}/${what}`, F32, [], [v]);
}

function select(c: OnnxCtx, cond: number, a: number, b: number, name: string): number {
  const shape = c.b.g.tensor(a).shape;
  return c.b.op('SELECT_V2', [cond, a, b], {}, { outputs: [{ name, shape, dtype: F32 }] })[0]!;
}

function compare(c: OnnxCtx, type: 'LESS' | 'GREATER', x: number, v: number, what: string): number {
  const shape = c.b.g.tensor(x).shape;
  return c.b.op(
    type,
    [x, k(c, `${what}_bound`, v)],
    {},
    { outputs: [{ name: `${c.name}/${what}`, shape, dtype: 'bool' }] },
  )[0]!;
}

/** atan(x), named `name`. */
export function atan(c: OnnxCtx, x: number, name: string): number {
  const n = (what: string): { name: string } => ({ name: `${c.name}/${what}` });
  const ax = c.b.unary('ABS', x, n('atan_abs'));
  const z = c.b.op(
    'MINIMUM',
    [ax, c.b.binary('DIV', k(c, 'one', 1), ax, {}, n('atan_inv'))],
    {},
    { outputs: [n('atan_z')] },
  )[0]!;
  const z2 = c.b.binary('MUL', z, z, {}, n('atan_z2'));
  // Horner in z²
  let p = k(c, 'a16', A[8]!);
  for (let i = 7; i >= 0; i--) p = c.b.binary('ADD', c.b.binary('MUL', p, z2), k(c, `a${2 * i}`, A[i]!));
  const r = c.b.binary('MUL', p, z, {}, n('atan_reduced'));
  const above = select(
    c,
    compare(c, 'GREATER', ax, 1, 'atan_above_one'),
    c.b.binary('SUB', k(c, 'half_pi', HALF_PI), r, {}, n('atan_complement')),
    r,
    `${c.name}/atan_abs_result`,
  );
  return select(c, compare(c, 'LESS', x, 0, 'atan_negative'), c.b.unary('NEG', above, n('atan_neg')), above, name);
}

/** asin(x) = atan(x / √((1 − x)(1 + x))). */
function asin(c: OnnxCtx, x: number, name: string): number {
  const one = k(c, 'asin_one', 1);
  const q = c.b.binary('MUL', c.b.binary('SUB', one, x), c.b.binary('ADD', one, x), {}, { name: `${c.name}/1-x2` });
  const cos = c.b.unary('SQRT', q, { name: `${c.name}/sqrt_1-x2` });
  return atan(c, c.b.binary('DIV', x, cos, {}, { name: `${c.name}/tan` }), name);
}

export const INVERSE_TRIG: Record<'Atan' | 'Asin' | 'Acos', OnnxOpConverter> = {
  Atan: composite((c, x) => atan(c, x, c.out())),
  Asin: composite((c, x) => asin(c, x, c.out())),
  Acos: composite((c, x) =>
    c.b.binary('SUB', k(c, 'acos_half_pi', HALF_PI), asin(c, x, `${c.name}/asin`), {}, { name: c.out() }),
  ),
};
