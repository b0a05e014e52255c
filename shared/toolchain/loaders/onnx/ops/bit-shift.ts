/**
 * BitShift, which TFLite 2.9 has no shift op for, on uint8 (the one unsigned type it computes on): in int32,
 * x << y is x·2^y mod 256 and x >> y is ⌊x / 2^y⌋, with 2^y read from a 256-entry table (a shift by 8 or more
 * leaves 0 either way: factor 0, divisor 256).
 */

import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { applyPerm } from '../layout.js';
import { castTo, operands, typedOp } from './common.js';

const LEFT = Array.from({ length: 256 }, (_v, k) => (k < 8 ? 2 ** k : 0));
const RIGHT = Array.from({ length: 256 }, (_v, k) => (k < 8 ? 2 ** k : 256));

export function bitShift(c: OnnxCtx): Value[] {
  if (c.dtype(0) !== 'uint8' || c.dtype(1) !== 'uint8')
    throw c.refuse(
      `shifts ${c.dtype(0)}; of the unsigned types TFLite computes on uint8 only`,
      'Shift uint8 values, or multiply/divide by powers of two in int32',
    );
  const dir = c.attr.s('direction', '');
  if (dir !== 'LEFT' && dir !== 'RIGHT') throw c.refuse(`direction "${dir}" (LEFT or RIGHT)`);
  const { ids, perm, shape } = operands(c, [0, 1]);
  const phys = applyPerm(shape, perm);
  const x = castTo(c, ids[0]!, 'int32', `${c.name}/x`);
  const y = castTo(c, ids[1]!, 'int32', `${c.name}/y`);
  const table = c.b.constant(`${c.name}/pow2`, 'int32', [256], dir === 'LEFT' ? LEFT : RIGHT);
  const p = typedOp(c, 'GATHER', [table, y], c.b.g.tensor(y).shape, 'int32', `${c.name}/pow2_y`, { axis: 0 });
  const r =
    dir === 'LEFT'
      ? typedOp(
          c,
          'FLOOR_MOD',
          [
            typedOp(c, 'MUL', [x, p], phys, 'int32', `${c.name}/shifted`),
            c.b.constant(`${c.name}/256`, 'int32', [], [256]),
          ],
          phys,
          'int32',
          `${c.name}/wrapped`,
        )
      : typedOp(c, 'FLOOR_DIV', [x, p], phys, 'int32', `${c.name}/shifted`);
  return [tensorVal(castTo(c, r, 'uint8', c.out()), perm)];
}
