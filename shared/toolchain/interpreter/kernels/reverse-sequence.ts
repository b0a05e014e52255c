import { stridesOf } from '../../ir/graph.js';
import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

type Num = { [i: number]: number | bigint; length: number };

/**
 * REVERSE_SEQUENCE (reverse_sequence.cc): for each index b along batchDim, the first seq_lengths[b] elements along
 * seqDim in reverse order, the rest as they are.
 */
export const reverseSequence: Kernel = (k) => {
  const s = k.shape(0);
  const seq = k.opts.seqDim as number;
  const batch = k.opts.batchDim as number;
  if (seq === batch || seq < 0 || batch < 0 || seq >= s.length || batch >= s.length)
    throw badOp(k.op, `seq_dim ${seq} and batch_dim ${batch} must be two different axes of a rank-${s.length} input`);
  const ld = k.dtype(1);
  if (ld !== 'int32' && ld !== 'int64') throw unsupportedType(k.op, `${ld} sequence lengths`);
  const x = k.input(0) as unknown as Num;
  const lens = k.input(1) as unknown as Num;
  const y = k.output(0, s) as unknown as Num;
  const st = stridesOf(s);
  const n = x.length;
  return () => {
    const co = new Array<number>(s.length).fill(0);
    for (let p = 0; p < n; p++) {
      const len = Number(lens[co[batch]!]!);
      if (len < 0 || len > s[seq]!) throw badOp(k.op, `sequence length ${len} is outside [0, ${s[seq]}]`);
      const t = co[seq]!;
      const src = t < len ? p + (len - 1 - 2 * t) * st[seq]! : p;
      y[p] = x[src]!;
      for (let d = s.length - 1; d >= 0; d--) {
        if (++co[d]! < s[d]!) break;
        co[d] = 0;
      }
    }
  };
};
