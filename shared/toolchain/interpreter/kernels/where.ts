import { badOp } from '../errors.js';
import type { Kernel } from '../kernel.js';

type Num = { [i: number]: number | bigint; length: number };

/**
 * WHERE (where.cc): the int64 coordinates [n, rank] of the true (non-zero) elements, in row-major order. The number
 * of rows depends on the data; the interpreter plans the output tensor's declared [n, rank] and refuses a run whose
 * count differs.
 */
export const where: Kernel = (k) => {
  const s = k.shape(0);
  const declared = k.outTensor(0).shape;
  const r = s.length;
  if (declared.length !== 2 || declared[1] !== r)
    throw badOp(k.op, `the output's declared shape [${declared.join(', ')}] is not [n, ${r}]`);
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, declared) as BigInt64Array;
  const n = x.length;
  return () => {
    let count = 0;
    for (let p = 0; p < n; p++) if (x[p]) count++;
    if (count !== declared[0])
      throw badOp(k.op, `${count} true elements, but the model declares ${declared[0]} for the output`);
    const co = new Array<number>(r).fill(0);
    let o = 0;
    for (let p = 0; p < n; p++) {
      if (x[p]) for (let d = 0; d < r; d++) y[o++] = BigInt(co[d]!);
      for (let d = r - 1; d >= 0; d--) {
        if (++co[d]! < s[d]!) break;
        co[d] = 0;
      }
    }
  };
};
