import { badOp, unsupportedType } from '../errors.js';
import { mulByQuantMul, quantizeMultiplier, roundHalfAway } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { intRange, isQuant8, qp } from '../quant.js';
import { stridesOf } from '../../ir/graph.js';

const f32 = Math.fround;
type Num = ArrayLike<number> & { [i: number]: number };

interface Plan {
  axes: number[];
  outShape: number[];
  /** Output index of every input element. */
  dest: Int32Array;
  /** Input elements per output element. */
  count: number;
  outSize: number;
}

function plan(k: KernelArgs): Plan {
  const s = k.shape(0);
  const raw = k.constInts(1);
  if (!raw) throw badOp(k.op, 'the axis input must be a constant');
  const axes = [...new Set(raw.map((a) => (a < 0 ? a + s.length : a)))].sort((a, b) => a - b);
  const keep = !!k.opts.keepDims;
  const reducedShape = s.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keep ? reducedShape : s.filter((_, i) => !axes.includes(i));
  const n = s.reduce((a, b) => a * b, 1);
  const ost = stridesOf(reducedShape);
  const dest = new Int32Array(n);
  const c = new Array<number>(s.length).fill(0);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (let d = 0; d < s.length; d++) if (!axes.includes(d)) o += c[d]! * ost[d]!;
    dest[i] = o;
    for (let d = s.length - 1; d >= 0; d--) {
      if (++c[d]! < s[d]!) break;
      c[d] = 0;
    }
  }
  const count = axes.reduce((a, ax) => a * s[ax]!, 1);
  return { axes, outShape, dest, count, outSize: reducedShape.reduce((a, b) => a * b, 1) };
}

function accumulate(p: Plan, x: Num, acc: Float64Array, init: number, fn: (a: number, v: number) => number): void {
  acc.fill(init);
  const n = p.dest.length;
  for (let i = 0; i < n; i++) acc[p.dest[i]!] = fn(acc[p.dest[i]!]!, x[i]!);
}

export const mean: Kernel = (k) => {
  const p = plan(k);
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, p.outShape) as unknown as Num;
  const acc = new Float64Array(p.outSize);
  const d = k.dtype(0);
  const sum = (a: number, v: number): number => a + v;
  if (d === 'float32') {
    return () => {
      accumulate(p, x, acc, 0, sum);
      for (let i = 0; i < p.outSize; i++) y[i] = acc[i]! / p.count;
    };
  }
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const n = p.count;
  const s = k.shape(0);
  const spatial = s.length === 4 && !!k.opts.keepDims && p.axes.length === 2 && p.axes[0] === 1 && p.axes[1] === 2;
  if (spatial && d === 'int8') {
    const m = quantizeMultiplier(i.scale / o.scale);
    return () => {
      accumulate(p, x, acc, 0, (a, v) => a + v - i.zp);
      for (let j = 0; j < p.outSize; j++) {
        let a = mulByQuantMul(acc[j]!, m.multiplier, m.shift);
        a = a > 0 ? Math.trunc((a + Math.trunc(n / 2)) / n) : Math.trunc((a - Math.trunc(n / 2)) / n);
        a += o.zp;
        y[j] = a < qmin ? qmin : a > qmax ? qmax : a;
      }
    };
  }
  if (spatial && d === 'uint8') {
    let temp = f32(f32(i.zp * i.scale) / o.scale);
    temp = temp > 0 ? f32(temp + 0.5) : f32(temp - 0.5);
    const bias = o.zp - Math.trunc(temp);
    const m = quantizeMultiplier(f32(i.scale / f32(n * o.scale)));
    return () => {
      accumulate(p, x, acc, 0, sum);
      for (let j = 0; j < p.outSize; j++) {
        const a = mulByQuantMul(acc[j]!, m.multiplier, m.shift) + bias;
        y[j] = a < qmin ? qmin : a > qmax ? qmax : a;
      }
    };
  }
  if (i.scale === o.scale && i.zp === o.zp) {
    return () => {
      accumulate(p, x, acc, 0, sum);
      for (let j = 0; j < p.outSize; j++) y[j] = Math.trunc(acc[j]! / n);
    };
  }
  const scale = f32(i.scale / o.scale);
  const bias = f32(-i.zp * scale);
  return () => {
    accumulate(p, x, acc, 0, sum);
    for (let j = 0; j < p.outSize; j++) {
      const fm = f32(acc[j]! / n);
      let r = roundHalfAway(f32(f32(fm * scale) + bias)) + o.zp;
      r = Math.max(qmin, Math.min(qmax, r));
      y[j] = r;
    }
  };
};

export const sum: Kernel = (k) => {
  const p = plan(k);
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, p.outShape) as unknown as Num;
  const acc = new Float64Array(p.outSize);
  const d = k.dtype(0);
  const add = (a: number, v: number): number => a + v;
  if (d === 'float32' || d === 'int32') {
    return () => {
      accumulate(p, x, acc, 0, add);
      for (let i = 0; i < p.outSize; i++) y[i] = acc[i]!;
    };
  }
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const scale = f32(i.scale / o.scale);
  const bias = f32(f32(-i.zp * scale) * p.count);
  return () => {
    accumulate(p, x, acc, 0, add);
    for (let j = 0; j < p.outSize; j++) {
      const r = roundHalfAway(f32(f32(acc[j]! * scale) + bias)) + o.zp;
      y[j] = Math.max(qmin, Math.min(qmax, r));
    }
  };
};

const extreme =
  (init: number, pick: (a: number, v: number) => number): Kernel =>
  (k) => {
    const p = plan(k);
    const x = k.input(0) as unknown as Num;
    const y = k.output(0, p.outShape) as unknown as Num;
    const acc = new Float64Array(p.outSize);
    return () => {
      accumulate(p, x, acc, init, pick);
      for (let i = 0; i < p.outSize; i++) y[i] = acc[i]!;
    };
  };

export const reduceMax = extreme(-Infinity, (a, v) => (v > a ? v : a));
export const reduceMin = extreme(Infinity, (a, v) => (v < a ? v : a));

export const reduceProd: Kernel = (k) => {
  if (k.dtype(0) !== 'float32' && k.dtype(0) !== 'int32') throw unsupportedType(k.op, k.dtype(0));
  return extreme(1, (a, v) => a * v)(k);
};

/** ARG_MAX / ARG_MIN: the first index of the largest (smallest) value along the axis; one loop each (no callback). */
const argExtreme =
  (max: boolean): Kernel =>
  (k) => {
    const s = k.shape(0);
    const raw = k.constInts(1);
    if (!raw) throw badOp(k.op, 'the axis input must be a constant');
    const axis = raw[0]! < 0 ? raw[0]! + s.length : raw[0]!;
    const outShape = s.filter((_, i) => i !== axis);
    const x = k.input(0) as unknown as Num;
    const out = k.output(0, outShape);
    const wide = k.outTensor(0).dtype === 'int64';
    const y = wide ? new Int32Array(out.buffer, out.byteOffset, out.length * 2) : (out as Int32Array);
    const stride = wide ? 2 : 1;
    const outer = s.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
    const dim = s[axis]!;
    return () => {
      for (let o = 0; o < outer; o++)
        for (let i = 0; i < inner; i++) {
          const base = o * dim * inner + i;
          let best = x[base]!;
          let idx = 0;
          if (max) {
            for (let j = 1; j < dim; j++) {
              const v = x[base + j * inner]!;
              if (v > best) {
                best = v;
                idx = j;
              }
            }
          } else {
            for (let j = 1; j < dim; j++) {
              const v = x[base + j * inner]!;
              if (v < best) {
                best = v;
                idx = j;
              }
            }
          }
          y[(o * inner + i) * stride] = idx;
        }
    };
  };

export const argMax = argExtreme(true);
export const argMin = argExtreme(false);
