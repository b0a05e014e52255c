import type { AnyTypedArray } from '../../ir/dtype.js';
import { badOp, unsupportedType } from '../errors.js';
import { mulByQuantMul, mulByQuantMulSmallerThanOne, quantizeMultiplier } from '../fixed-point.js';
import type { Kernel, KernelArgs } from '../kernel.js';
import { floatActivationRange, intRange, isClampActivation, isQuant8, qp, quantActivationRange } from '../quant.js';
import { broadcastPlan } from './broadcast.js';
import { wasmQAdd } from '../wasm/add-wasm.js';

const f32 = Math.fround;

type Num = ArrayLike<number> & { [i: number]: number };

/** Runs fn over every output element with broadcast indexing resolved at prepare time. */
function binaryLoop(k: KernelArgs, fn: (x: number, y: number) => number): () => void {
  const plan = broadcastPlan(k.shape(0), k.shape(1));
  const out = k.output(0, plan.shape) as unknown as Num;
  const a = k.input(0) as unknown as Num;
  const b = k.input(1) as unknown as Num;
  const { ia, ib } = plan;
  const n = out.length;
  if (!ia && !ib)
    return () => {
      for (let i = 0; i < n; i++) out[i] = fn(a[i]!, b[i]!);
    };
  if (!ia && b.length === 1)
    return () => {
      const y = b[0]!;
      for (let i = 0; i < n; i++) out[i] = fn(a[i]!, y);
    };
  return () => {
    for (let i = 0; i < n; i++) out[i] = fn(a[ia ? ia[i]! : i]!, b[ib ? ib[i]! : i]!);
  };
}

function activation(k: KernelArgs): number {
  const act = k.opts.fusedActivationFunction ?? 0;
  if (!isClampActivation(act)) throw badOp(k.op, `fused activation ${act} is not supported`);
  return act;
}

function floatBinary(k: KernelArgs, fn: (x: number, y: number) => number): () => void {
  const [lo, hi] = floatActivationRange(activation(k));
  return binaryLoop(k, (x, y) => {
    const v = fn(x, y);
    return v < lo ? lo : v > hi ? hi : v;
  });
}

/** Quantized ADD/SUB: both inputs rescaled to 2·max(scale) with 20 bits of headroom, summed, rescaled to the output. */
function quantAddSub(k: KernelArgs, sign: 1 | -1): () => void {
  const i1 = qp(k.tensor(0));
  const i2 = qp(k.tensor(1));
  const out = k.outTensor(0);
  const o = qp(out);
  const leftShift = 20;
  const twiceMax = 2 * f32(Math.max(i1.scale, i2.scale));
  const m1 = quantizeMultiplier(i1.scale / twiceMax);
  const m2 = quantizeMultiplier(i2.scale / twiceMax);
  const mo = quantizeMultiplier(twiceMax / f32((1 << leftShift) * o.scale));
  const [lo, hi] = quantActivationRange(activation(k), out);
  const off1 = -i1.zp;
  const off2 = -i2.zp;
  const scale = (1 << leftShift) >>> 0;
  const plan = broadcastPlan(k.shape(0), k.shape(1));
  if (!plan.ia && !plan.ib) {
    const signed = k.dtype(0) === 'int8';
    const table = (off: number, m: { multiplier: number; shift: number }, sgn: number): Int32Array =>
      Int32Array.from({ length: 256 }, (_, i) => {
        const v = signed ? i - 128 : i;
        return sgn * mulByQuantMulSmallerThanOne((v + off) * scale, m.multiplier, m.shift);
      });
    const n = plan.shape.reduce((p, d) => p * d, 1);
    const fast = wasmQAdd({
      n,
      t1: table(off1, m1, 1),
      t2: table(off2, m2, sign),
      multiplier: mo.multiplier,
      shift: mo.shift,
      zp: o.zp,
      lo,
      hi,
      signed,
    });
    if (fast) {
      k.kernel('wasm addq');
      const a = k.input(0) as Int8Array | Uint8Array;
      const b = k.input(1) as Int8Array | Uint8Array;
      const y = k.output(0, plan.shape) as Int8Array | Uint8Array;
      return () => fast(a, b, y);
    }
  }
  return binaryLoop(k, (x, y) => {
    const s1 = mulByQuantMulSmallerThanOne((x + off1) * scale, m1.multiplier, m1.shift);
    const s2 = mulByQuantMulSmallerThanOne((y + off2) * scale, m2.multiplier, m2.shift);
    const v = mulByQuantMulSmallerThanOne(sign > 0 ? s1 + s2 : s1 - s2, mo.multiplier, mo.shift) + o.zp;
    return v < lo ? lo : v > hi ? hi : v;
  });
}

function intBinary(k: KernelArgs, fn: (x: number, y: number) => number): () => void {
  return binaryLoop(k, fn);
}

export const add: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return floatBinary(k, (x, y) => x + y);
  if (isQuant8(d)) return quantAddSub(k, 1);
  if (d === 'int32') return intBinary(k, (x, y) => (x + y) | 0);
  throw unsupportedType(k.op, d);
};

export const sub: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return floatBinary(k, (x, y) => x - y);
  if (isQuant8(d)) return quantAddSub(k, -1);
  if (d === 'int32') return intBinary(k, (x, y) => (x - y) | 0);
  throw unsupportedType(k.op, d);
};

export const mul: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return floatBinary(k, (x, y) => x * y);
  if (d === 'int32') return intBinary(k, (x, y) => Math.imul(x, y));
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  const i1 = qp(k.tensor(0));
  const i2 = qp(k.tensor(1));
  const out = k.outTensor(0);
  const o = qp(out);
  const m = quantizeMultiplier(f32(f32(i1.scale * i2.scale) / o.scale));
  const [lo, hi] = quantActivationRange(activation(k), out);
  return binaryLoop(k, (x, y) => {
    const v = mulByQuantMul((x - i1.zp) * (y - i2.zp), m.multiplier, m.shift) + o.zp;
    return v < lo ? lo : v > hi ? hi : v;
  });
};

export const div: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return floatBinary(k, (x, y) => x / y);
  if (d === 'int32') {
    return intBinary(k, (x, y) => {
      if (y === 0) throw badOp(k.op, 'division by zero');
      return Math.trunc(x / y) | 0;
    });
  }
  throw unsupportedType(k.op, d);
};

export const floorDiv: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return binaryLoop(k, (x, y) => Math.floor(x / y));
  if (d === 'int32' || d === 'int8' || d === 'int16') {
    return binaryLoop(k, (x, y) => {
      if (y === 0) throw badOp(k.op, 'division by zero');
      return Math.floor(x / y);
    });
  }
  throw unsupportedType(k.op, d);
};

export const floorMod: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'int64') {
    // BigInt64Array elements are bigints: the remainder takes the divisor's sign
    const mod = (x: bigint, y: bigint): bigint => {
      if (y === 0n) throw badOp(k.op, 'division by zero');
      const r = x % y;
      return r !== 0n && r < 0n !== y < 0n ? r + y : r;
    };
    return binaryLoop(k, mod as unknown as (x: number, y: number) => number);
  }
  if (d === 'float32') {
    return binaryLoop(k, (x, y) => {
      const r = x % y;
      return r !== 0 && r < 0 !== y < 0 ? r + y : r;
    });
  }
  if (d === 'int32') {
    return binaryLoop(k, (x, y) => {
      if (y === 0) throw badOp(k.op, 'division by zero');
      const r = x % y;
      return r !== 0 && r < 0 !== y < 0 ? r + y : r;
    });
  }
  throw unsupportedType(k.op, d);
};

/** MAXIMUM / MINIMUM: TFLite compares raw values (inputs and output share quantization). */
export const maximum: Kernel = (k) => binaryLoop(k, (x, y) => (x > y ? x : y));
export const minimum: Kernel = (k) => binaryLoop(k, (x, y) => (x < y ? x : y));

export const squaredDifference: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return binaryLoop(k, (x, y) => (x - y) * (x - y));
  if (d === 'int32') return binaryLoop(k, (x, y) => Math.imul(x - y, x - y));
  if (!isQuant8(d)) throw unsupportedType(k.op, d);
  // squared_difference.cc: both inputs to 2·max(scale) with left shift 7, squared, rescaled.
  const i1 = qp(k.tensor(0));
  const i2 = qp(k.tensor(1));
  const o = qp(k.outTensor(0));
  const leftShift = 7;
  const twiceMax = 2 * f32(Math.max(i1.scale, i2.scale));
  const m1 = quantizeMultiplier(i1.scale / twiceMax);
  const m2 = quantizeMultiplier(i2.scale / twiceMax);
  const mo = quantizeMultiplier((twiceMax * twiceMax) / ((1 << (2 * leftShift)) * o.scale));
  const [qmin, qmax] = intRange(d);
  return binaryLoop(k, (x, y) => {
    const s1 = mulByQuantMulSmallerThanOne((x - i1.zp) * (1 << leftShift), m1.multiplier, m1.shift);
    const s2 = mulByQuantMulSmallerThanOne((y - i2.zp) * (1 << leftShift), m2.multiplier, m2.shift);
    const diff = s1 - s2;
    const v = mulByQuantMulSmallerThanOne(Math.imul(diff, diff), mo.multiplier, mo.shift) + o.zp;
    return v < qmin ? qmin : v > qmax ? qmax : v;
  });
};

const compare =
  (fn: (x: number, y: number) => boolean): Kernel =>
  (k) => {
    const d = k.dtype(0);
    if (isQuant8(d)) {
      const a = qp(k.tensor(0));
      const b = qp(k.tensor(1));
      if (a.scale !== b.scale || a.zp !== b.zp) {
        return binaryLoop(k, (x, y) => (fn(a.scale * (x - a.zp), b.scale * (y - b.zp)) ? 1 : 0));
      }
    }
    return binaryLoop(k, (x, y) => (fn(x, y) ? 1 : 0));
  };

export const less = compare((x, y) => x < y);
export const greater = compare((x, y) => x > y);
export const equal = compare((x, y) => x === y);
export const notEqual = compare((x, y) => x !== y);
export const greaterEqual = compare((x, y) => x >= y);
export const lessEqual = compare((x, y) => x <= y);

export type { AnyTypedArray };

/** LOGICAL_AND / LOGICAL_OR on bool tensors (one byte each), broadcasting like the comparisons. */
const logical =
  (fn: (x: boolean, y: boolean) => boolean): Kernel =>
  (k) => {
    if (k.dtype(0) !== 'bool') throw unsupportedType(k.op, k.dtype(0));
    return binaryLoop(k, (x, y) => (fn(x !== 0, y !== 0) ? 1 : 0));
  };
export const logicalAnd = logical((x, y) => x && y);
export const logicalOr = logical((x, y) => x || y);

/**
 * POW as TFLite's reference kernel: std::pow per element (float32), and for int32 the double result truncated
 * (integer to a negative power is an error there).
 */
export const pow: Kernel = (k) => {
  const d = k.dtype(0);
  if (d === 'float32') return binaryLoop(k, (x, y) => Math.fround(Math.pow(x, y)));
  if (d === 'int32')
    return binaryLoop(k, (x, y) => {
      if (y < 0) throw badOp(k.op, 'integer to a negative integer power');
      return Math.trunc(Math.pow(x, y));
    });
  throw unsupportedType(k.op, d);
};
