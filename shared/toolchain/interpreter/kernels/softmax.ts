import { unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { intRange, isQuant8, qp } from '../quant.js';
import { logSoftmaxInt8 } from './log-softmax-int8.js';

const f32 = Math.fround;
type Num = ArrayLike<number> & { [i: number]: number };

/**
 * SOFTMAX over the last axis. 8-bit: TFLite's optimized table kernel — exp of (x − max)·scale·beta from a float32
 * table, float32 sum, output rounded (uint8: +0.5 then truncate; int8: round half away).
 */
export const softmax: Kernel = (k) => {
  const d = k.dtype(0);
  const shape = k.shape(0);
  const last = shape[shape.length - 1] ?? 1;
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, shape) as unknown as Num;
  const rows = x.length / last;
  const beta = f32(k.opts.beta ?? 1);
  if (d === 'float32') {
    const e = new Float64Array(last);
    return () => {
      for (let r = 0; r < rows; r++) {
        const b = r * last;
        let max = -Infinity;
        for (let j = 0; j < last; j++) if (x[b + j]! > max) max = x[b + j]!;
        let sum = 0;
        for (let j = 0; j < last; j++) sum += e[j] = Math.exp((x[b + j]! - max) * beta);
        for (let j = 0; j < last; j++) y[b + j] = e[j]! / sum;
      }
    };
  }
  if (!isQuant8(d) || k.outTensor(0).dtype !== d)
    throw unsupportedType(k.op, `${d} input with ${k.outTensor(0).dtype} output`);
  const inScale = qp(k.tensor(0)).scale;
  const o = qp(k.outTensor(0));
  const scale = f32(-f32(inScale * beta));
  const table = new Float32Array(256);
  for (let v = 0; v <= 255; v++) table[255 - v] = Math.exp(f32(scale * v));
  const [qmin, qmax] = intRange(d);
  const unsignedOut = d === 'uint8';
  return () => {
    for (let r = 0; r < rows; r++) {
      const b = r * last;
      let max = qmin;
      for (let j = 0; j < last; j++) if (x[b + j]! > max) max = x[b + j]!;
      const off = 255 - max;
      let sum = 0;
      for (let j = 0; j < last; j++) sum = f32(sum + table[off + x[b + j]!]!);
      const inv = f32(1 / f32(sum * o.scale));
      for (let j = 0; j < last; j++) {
        const p = f32(table[off + x[b + j]!]! * inv);
        let q = unsignedOut ? Math.trunc(f32(p + 0.5)) + o.zp : Math.round(p) + o.zp;
        q = q < qmin ? qmin : q > qmax ? qmax : q;
        y[b + j] = q;
      }
    }
  };
};

/**
 * LOG_SOFTMAX over the last axis. float32 (TFLite 2.9 optimized_ops::LogSoftmax): x − max − log(Σ exp(x − max)), the
 * sum taken in float64 here and in float32 by TFLite, so the two agree to float rounding. int8 (version 2): TFLite's
 * integer kernel, bit-exact (log-softmax-int8.ts). uint8 is not run.
 */
export const logSoftmax: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'int8' && k.outTensor(0).dtype === 'int8') return logSoftmaxInt8(k);
  if (d !== 'float32') throw unsupportedType(k.op, d);
  const shape = k.shape(0);
  const last = shape[shape.length - 1] ?? 1;
  const x = k.input(0) as Float32Array;
  const y = k.output(0, shape) as Float32Array;
  const rows = last === 0 ? 0 : x.length / last;
  return () => {
    for (let r = 0; r < rows; r++) {
      const b = r * last;
      let max = -Infinity;
      for (let j = 0; j < last; j++) if (x[b + j]! > max) max = x[b + j]!;
      let sum = 0;
      for (let j = 0; j < last; j++) sum += Math.exp(x[b + j]! - max);
      const logSum = Math.log(sum);
      for (let j = 0; j < last; j++) y[b + j] = x[b + j]! - max - logSum;
    }
  };
};
