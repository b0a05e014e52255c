/**
 * MeanVarianceNormalization as ONNX defines it (its function body): (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9), the
 * means over `axes` (default [0, 2, 3]) with MEAN keeping the reduced dimensions.
 */

import { normAxis } from '../../../ir/axis.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, floatOnly } from './common.js';

export function meanVarianceNormalization(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const axes = (c.attr.ints('axes') ?? [0, 2, 3]).map((a) => normAxis(a, r));
  if (axes.some((a) => a < 0 || a >= r)) throw c.refuse(`axes [${axes.join(', ')}] for a rank-${r} input`);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const phys = [...new Set(axes.map((a) => (p ? p.indexOf(a) : a)))].sort((a, b) => a - b);
  const n = (what: string): { name: string } => ({ name: `${c.name}/${what}` });
  const mean = (v: number, what: string): number =>
    c.b.op(
      'MEAN',
      [v, c.b.constant(`${c.name}/${what}_axes`, 'int32', [phys.length], phys)],
      { keepDims: true },
      {
        outputs: [n(what)],
      },
    )[0]!;
  const m = mean(x, 'mean');
  const variance = c.b.binary(
    'SUB',
    mean(c.b.binary('MUL', x, x, {}, n('x2')), 'mean_x2'),
    c.b.binary('MUL', m, m, {}, n('mean2')),
    {},
    n('variance'),
  );
  const std = c.b.binary(
    'ADD',
    c.b.unary('SQRT', variance, n('std')),
    c.b.constant(`${c.name}/epsilon`, F32, [], [1e-9]),
    {},
    n('std_eps'),
  );
  return [tensorVal(c.b.binary('DIV', c.b.binary('SUB', x, m, {}, n('centered')), std, {}, { name: c.out() }), p)];
}
