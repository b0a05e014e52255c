/**
 * RANGE as TFLite's kernel: start, start + delta, … accumulated in the element type (float32 rounding after every
 * step). TFLite sizes the output at run time; Kiln's graphs are static, so a run-time count other than the output's
 * length is an error naming both.
 */

import { numElements } from '../../ir/graph.js';
import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';

export const range: Kernel = (k) => {
  const d = k.dtype(0);
  if (d !== 'float32' && d !== 'int32') throw unsupportedType(k.op, d);
  const shape = k.outTensor(0).shape;
  const n = numElements(shape);
  const y = k.output(0, shape) as Float32Array | Int32Array;
  const [start, limit, delta] = [0, 1, 2].map((i) => k.input(i));
  const add = d === 'float32' ? (a: number, b: number) => Math.fround(a + b) : (a: number, b: number) => (a + b) | 0;
  return () => {
    const s = Number(start![0]);
    const l = Number(limit![0]);
    const dl = Number(delta![0]);
    if (dl === 0) throw badOp(k.op, 'a delta of 0');
    const count = d === 'int32' ? Math.ceil(Math.abs(l - s) / Math.abs(dl)) : Math.ceil(Math.abs((l - s) / dl));
    if (count !== n) throw badOp(k.op, `${count} values at run time, where the model fixes ${n}`);
    let v = s;
    for (let i = 0; i < n; i++) {
      y[i] = v;
      v = add(v, dl);
    }
  };
};
