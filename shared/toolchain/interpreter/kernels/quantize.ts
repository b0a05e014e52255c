import { unsupportedType } from '../errors.js';
import { mulByQuantMul, quantizeMultiplier, roundHalfAway } from '../fixed-point.js';
import type { Kernel } from '../kernel.js';
import { intRange, qp } from '../quant.js';

const f32 = Math.fround;
type Num = ArrayLike<number> & { [i: number]: number };

/** QUANTIZE: float → int (AffineQuantize) or int → int requantization (input scale / output scale in doubles). */
export const quantize: Kernel = (k) => {
  const din = k.dtype(0);
  const out = k.outTensor(0);
  const [qmin, qmax] = intRange(out.dtype);
  const o = qp(out);
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, k.shape(0)) as unknown as Num;
  const n = x.length;
  if (din === 'float32') {
    if (out.quant && out.quant.scale.length > 1) {
      const q = out.quant;
      const shape = k.shape(0);
      const axis = q.axis;
      const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const dim = shape[axis]!;
      return () => {
        for (let i = 0; i < n; i++) {
          const c = Math.floor(i / inner) % dim;
          const v = roundHalfAway(f32(x[i]! / q.scale[c]!)) + q.zeroPoint[c]!;
          y[i] = v < qmin ? qmin : v > qmax ? qmax : v;
        }
      };
    }
    return () => {
      for (let i = 0; i < n; i++) {
        const v = roundHalfAway(f32(x[i]! / o.scale)) + o.zp;
        y[i] = v < qmin ? qmin : v > qmax ? qmax : v;
      }
    };
  }
  if (din === 'int8' || din === 'uint8' || din === 'int16') {
    const i = qp(k.tensor(0));
    const m = quantizeMultiplier(i.scale / o.scale);
    if ((din === 'int8' || din === 'uint8') && (out.dtype === 'int8' || out.dtype === 'uint8')) {
      // 8 bits in, 8 out: the requantization of every input byte, computed once.
      const table = new Int16Array(256);
      for (let b = 0; b < 256; b++) {
        const xv = din === 'int8' ? (b << 24) >> 24 : b;
        const v = mulByQuantMul(xv - i.zp, m.multiplier, m.shift) + o.zp;
        table[b] = v < qmin ? qmin : v > qmax ? qmax : v;
      }
      k.kernel('js 256-entry table');
      return () => {
        for (let j = 0; j < n; j++) y[j] = table[x[j]! & 255]!;
      };
    }
    return () => {
      for (let j = 0; j < n; j++) {
        const v = mulByQuantMul(x[j]! - i.zp, m.multiplier, m.shift) + o.zp;
        y[j] = v < qmin ? qmin : v > qmax ? qmax : v;
      }
    };
  }
  throw unsupportedType(k.op, `${din} input`);
};

/** DEQUANTIZE: scale · (q − zero point) in float32 (per-channel when the input has several scales). */
export const dequantize: Kernel = (k) => {
  const din = k.dtype(0);
  const t = k.tensor(0)!;
  const x = k.input(0) as unknown as Num;
  const y = k.output(0, k.shape(0)) as Float32Array;
  const n = x.length;
  if (din === 'float16') {
    return () => {
      for (let i = 0; i < n; i++) y[i] = halfToFloat(x[i]!);
    };
  }
  if (din !== 'int8' && din !== 'uint8' && din !== 'int16' && din !== 'int32')
    throw unsupportedType(k.op, `${din} input`);
  const q = t.quant ?? { scale: [1], zeroPoint: [0], axis: 0 };
  if (q.scale.length > 1) {
    const shape = k.shape(0);
    const inner = shape.slice(q.axis + 1).reduce((a, b) => a * b, 1);
    const dim = shape[q.axis]!;
    return () => {
      for (let i = 0; i < n; i++) {
        const c = Math.floor(i / inner) % dim;
        y[i] = q.scale[c]! * (x[i]! - q.zeroPoint[c]!);
      }
    };
  }
  const s = q.scale[0]!;
  const z = q.zeroPoint[0]!;
  return () => {
    for (let i = 0; i < n; i++) y[i] = s * (x[i]! - z);
  };
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** CAST between numeric types (float → int truncates, like static_cast). */
export const cast: Kernel = (k) => {
  const din = k.dtype(0);
  const dout = k.outTensor(0).dtype;
  const x = k.input(0) as unknown as ArrayLike<number | bigint>;
  const y = k.output(0, k.shape(0)) as unknown as { [i: number]: number | bigint; length: number };
  const n = x.length;
  const toBig = dout === 'int64' || dout === 'uint64';
  const fromBig = din === 'int64' || din === 'uint64';
  const conv = (v: number): number => {
    if (dout === 'bool') return v !== 0 ? 1 : 0;
    if (dout === 'float32' || dout === 'float64') return v;
    return Math.trunc(v);
  };
  return () => {
    for (let i = 0; i < n; i++) {
      const v = fromBig ? Number(x[i] as bigint) : (x[i] as number);
      const c = conv(v);
      y[i] = toBig ? BigInt(c) : c;
    }
  };
};
