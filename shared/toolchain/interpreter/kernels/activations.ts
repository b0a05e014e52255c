import { unsupportedType } from '../errors.js';
import { mulByQuantMul, quantizeMultiplier, roundHalfAway, roundingDivideByPOT } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { intRange, isQuant8, qp } from '../quant.js';
import { broadcastIndex } from './broadcast.js';
import { erf } from '../erf.js';

const f32 = Math.fround;
type Num = ArrayLike<number> & { [i: number]: number };

function unary(k: KernelArgs, fn: (x: number) => number): () => void {
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, k.shape(0)) as unknown as Num;
  const n = x.length;
  return () => {
    for (let i = 0; i < n; i++) y[i] = fn(x[i]!);
  };
}

/** An 8-bit op as a 256-entry table (TFLite's PopulateLookupTable, in float32 arithmetic). */
function lookupTable(k: KernelArgs, transform: (v: number) => number): () => void {
  const d = k.dtype(0);
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const inv = f32(1 / o.scale);
  const table = new Int32Array(256);
  for (let v = qmin; v <= qmax; v++) {
    const deq = f32(i.scale * (v - i.zp));
    const t = f32(transform(deq));
    const rescaled = roundHalfAway(f32(t * inv));
    const q = Math.trunc(f32(rescaled + o.zp));
    table[v - qmin] = Math.max(qmin, Math.min(qmax, q));
  }
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, k.shape(0)) as unknown as Num;
  const n = x.length;
  return () => {
    for (let j = 0; j < n; j++) y[j] = table[x[j]! - qmin]!;
  };
}

const sigmoidF = (v: number): number => f32(1 / f32(1 + f32(Math.exp(-v))));

export const logistic: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return unary(k, (v) => 1 / (1 + Math.exp(-v)));
  if (isQuant8(d)) return lookupTable(k, sigmoidF);
  throw unsupportedType(k.op, d);
};

export const tanh: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return unary(k, Math.tanh);
  if (isQuant8(d)) return lookupTable(k, (v) => f32(Math.tanh(v)));
  throw unsupportedType(k.op, d);
};

/** RELU / RELU6 / RELU_N1_TO_1: requantize (input scale / output scale, in float32) then clamp. */
function reluX(lo: number, hi: number): Kernel {
  return (k) => {
    const d = k.dtype(0);
    if (d === 'float32') return unary(k, (v) => (v < lo ? lo : v > hi ? hi : v));
    if (!isQuant8(d)) throw unsupportedType(k.op, d);
    const i = qp(k.tensor(0));
    const o = qp(k.outTensor(0));
    const [qmin, qmax] = intRange(d);
    const m = quantizeMultiplier(f32(i.scale / o.scale));
    const amin = Math.max(qmin, o.zp + roundHalfAway(f32(lo / o.scale)));
    const amax = hi === Infinity ? qmax : Math.min(qmax, o.zp + roundHalfAway(f32(hi / o.scale)));
    return unary(k, (v) => {
      const r = o.zp + mulByQuantMul(v - i.zp, m.multiplier, m.shift);
      return r < amin ? amin : r > amax ? amax : r;
    });
  };
}

export const relu = reluX(0, Infinity);
export const relu6 = reluX(0, 6);
export const reluN1To1 = reluX(-1, 1);

export const leakyRelu: Kernel = (k) => {
  const d = k.dtype(0);
  const alpha = f32(k.opts.alpha ?? 0.2);
  if (d === 'float32') return unary(k, (v) => (v > 0 ? v : f32(v * alpha)));
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const ma = quantizeMultiplier(f32(f32(i.scale * alpha) / o.scale));
  const mi = quantizeMultiplier(f32(i.scale / o.scale));
  return unary(k, (v) => {
    const x = v - i.zp;
    const r = o.zp + (x >= 0 ? mulByQuantMul(x, mi.multiplier, mi.shift) : mulByQuantMul(x, ma.multiplier, ma.shift));
    return r < qmin ? qmin : r > qmax ? qmax : r;
  });
};

export const prelu: Kernel = (k) => {
  const d = k.dtype(0);
  const x = k.input(0) as unknown as Num;
  const a = k.input(1) as unknown as Num;
  const y = k.output(0, k.shape(0)) as unknown as Num;
  const ai = broadcastIndex(k.shape(1), k.shape(0));
  const n = x.length;
  if (d === 'float32') {
    return () => {
      for (let j = 0; j < n; j++) y[j] = x[j]! >= 0 ? x[j]! : x[j]! * a[ai[j]!]!;
    };
  }
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i = qp(k.tensor(0));
  const al = qp(k.tensor(1));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const m1 = quantizeMultiplier(f32(i.scale / o.scale));
  const m2 = quantizeMultiplier(f32(f32(i.scale * al.scale) / o.scale));
  return () => {
    for (let j = 0; j < n; j++) {
      const v = x[j]! - i.zp;
      let r =
        v >= 0
          ? mulByQuantMul(v, m1.multiplier, m1.shift)
          : mulByQuantMul(v * (a[ai[j]!]! - al.zp), m2.multiplier, m2.shift);
      r += o.zp;
      y[j] = r < qmin ? qmin : r > qmax ? qmax : r;
    }
  };
};

// int16 fixed-point helpers for HARD_SWISH.
const sat16 = (v: number): number => (v < -32768 ? -32768 : v > 32767 ? 32767 : v);
function srdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return Math.trunc((ab + nudge) / 32768);
}
function sdhm16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  return Math.trunc((a * b) / 32768);
}
function downscaleToInt16(m: number): number {
  if (m >= 2147483647 - 32768) return 32767;
  return (m + 32768) >> 16;
}

export const hardSwish: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return unary(k, (v) => (v * Math.min(6, Math.max(0, v + 3))) / 6);
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i = qp(k.tensor(0));
  const o = qp(k.outTensor(0));
  const [qmin, qmax] = intRange(d);
  const hires = f32(f32(1 / 128) * i.scale);
  const om = quantizeMultiplier(f32(hires / o.scale));
  const rm = quantizeMultiplier(f32(hires / f32(3 / 32768)));
  const outMul16 = downscaleToInt16(om.multiplier);
  const reluMul16 = downscaleToInt16(rm.multiplier);
  const outExp = om.shift;
  const reluExp = rm.shift;
  if (outExp > 0) throw unsupportedType(k.op, 'an output scale smaller than input scale / 128');
  return unary(k, (v) => {
    const x = v - i.zp;
    const hiresV = x * 128;
    const preshift = srdhm16(hiresV, outMul16);
    let r = hiresV;
    if (reluExp > 0) r = sat16(r * 2 ** (reluExp - 1));
    r = srdhm16(r, reluMul16);
    if (reluExp > 0) r = sat16(r * 2);
    if (reluExp < 0) r = roundingDivideByPOT(r, -reluExp);
    r = (r + 32768) >> 1;
    const pre = sdhm16(r, preshift);
    let out = roundingDivideByPOT(pre, -outExp) + o.zp;
    out = out < qmin ? qmin : out > qmax ? qmax : out;
    return out;
  });
};

const floatOnly =
  (fn: (v: number) => number): Kernel =>
  (k) => {
    const d = k.dtype(0);
    if (d !== 'float32') throw unsupportedType(k.op, d);
    return unary(k, fn);
  };

export const exp = floatOnly(Math.exp);
export const sin = floatOnly(Math.sin);
export const cos = floatOnly(Math.cos);
export const floor = floatOnly(Math.floor);
// + 0: TFLite returns +0 where Math.ceil gives −0
export const ceil = floatOnly((v) => Math.ceil(v) + 0);

/** GELU (float32) as TFLite's reference: 0.5·x·(1 + erf(x/√2)), or with `approximate` the tanh form. */
export const gelu: Kernel = (k) => {
  const d = k.dtype(0);
  if (d !== 'float32') throw unsupportedType(k.op, d);
  const c = Math.sqrt(2 / Math.PI);
  return unary(
    k,
    k.opts.approximate
      ? (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)))
      : (v) => 0.5 * v * (1 + erf(v * Math.SQRT1_2)),
  );
};
export const sqrt = floatOnly(Math.sqrt);
export const rsqrt = floatOnly((v) => 1 / Math.sqrt(v));
export const log = floatOnly(Math.log);
export const square = floatOnly((v) => v * v);

export const abs: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32' || d === 'int32') return unary(k, Math.abs);
  throw unsupportedType(k.op, d);
};

export const neg: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32' || d === 'int32') return unary(k, (v) => -v);
  throw unsupportedType(k.op, d);
};

export const logicalNot: Kernel = (k) => {
  if (k.dtype(0) !== 'bool') throw unsupportedType(k.op, k.dtype(0));
  return unary(k, (v) => (v === 0 ? 1 : 0));
};

/**
 * TFLite's RoundToNearest (reference_ops::Round, float32 only in 2.9): ties go to the even neighbour. The difference
 * x − floor(x) is exact in float32, so this reproduces TFLite bit for bit (−0.4 rounds to +0, as floor + 1 gives).
 */
export function roundHalfEven(v: number): number {
  const fl = Math.floor(v);
  const diff = v - fl;
  return diff < 0.5 || (diff === 0.5 && fl % 2 === 0) ? fl : fl + 1;
}

export const round = floatOnly(roundHalfEven);

/** ELU (alpha 1; TFLite 2.9 float32 kernel): x < 0 ? expm1(x) : x. */
export const elu = floatOnly((v) => (v < 0 ? Math.expm1(v) : v));
