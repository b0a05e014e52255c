/**
 * Erf, which TFLite 2.9 has no builtin for: Abramowitz & Stegun 7.1.26,
 * erf(|x|) = 1 − t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·exp(−x²) with t = 1/(1 + p·|x|), absolute error below
 * 1.5e-7 (well inside the 1e-4 conformance tolerance); the sign of x is restored with SELECT_V2.
 */

import { F32, composite } from './common.js';

const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];

export const erf = composite((c, x) => {
  const s = c.b.g.tensor(x).shape;
  const k = (what: string, v: number): number => c.b.constant(`${c.name}/${what}`, F32, [], [v]);
  const n = (what: string): { name: string } => ({ name: `${c.name}/${what}` });
  const one = k('one', 1);
  const ax = c.b.unary('ABS', x, n('abs'));
  const t = c.b.binary('DIV', one, c.b.binary('ADD', c.b.binary('MUL', ax, k('p', P)), one), {}, n('t'));
  // Horner: ((((a5·t + a4)·t + a3)·t + a2)·t + a1)·t
  let poly = k('a5', A[4]!);
  for (let i = 3; i >= 0; i--) poly = c.b.binary('ADD', c.b.binary('MUL', poly, t), k(`a${i + 1}`, A[i]!));
  poly = c.b.binary('MUL', poly, t, {}, n('poly'));
  const gauss = c.b.unary('EXP', c.b.unary('NEG', c.b.binary('MUL', x, x)), n('exp_neg_x2'));
  const y = c.b.binary('SUB', one, c.b.binary('MUL', poly, gauss), {}, n('erf_abs'));
  const negative = c.b.op(
    'LESS',
    [x, k('zero', 0)],
    {},
    { outputs: [{ name: `${c.name}/negative`, shape: s, dtype: 'bool' }] },
  )[0]!;
  return c.b.op(
    'SELECT_V2',
    [negative, c.b.unary('NEG', y, n('neg')), y],
    {},
    { outputs: [{ name: c.out(), shape: s, dtype: F32 }] },
  )[0]!;
});
