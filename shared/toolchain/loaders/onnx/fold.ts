import type { DType } from '../../ir/dtype.js';
import { numElements, stridesOf } from '../../ir/graph.js';
import { broadcastShapes } from '../../ir/shape-inference.js';
import { normAxis } from '../../ir/axis.js';
import type { Attrs } from './context.js';
import { permuteValues } from './layout.js';
import { makeConst, type ConstVal } from './tensor.js';

/**
 * ONNX ops evaluated on constants, in JS: the shape arithmetic PyTorch exports (Shape → Gather → Unsqueeze → Concat →
 * Reshape), constant generators (Constant, ConstantOfShape, Range) and element-wise math on constants. Once the input
 * shapes are fixed, all of it folds away before any TFLite op is emitted.
 */
export interface FoldCtx {
  attr: Attrs;
  opset: number;
  /** Inputs (undefined for an omitted optional input). */
  in: (ConstVal | undefined)[];
}

type Fold = (c: FoldCtx) => ConstVal[] | undefined;

const isInt = (d: DType): boolean => d !== 'float32' && d !== 'float64' && d !== 'float16';

/** Broadcast element-wise over any number of operands. */
export function broadcastMap(xs: ConstVal[], dtype: DType, f: (...a: number[]) => number): ConstVal {
  const shape = xs.reduce<number[]>((s, x) => broadcastShapes(s, x.shape), []);
  const n = numElements(shape);
  const ost = stridesOf(shape);
  const ins = xs.map((x) => {
    const p = [...new Array<number>(shape.length - x.shape.length).fill(1), ...x.shape];
    return stridesOf(p).map((st, i) => (p[i] === 1 ? 0 : st));
  });
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const args = new Array<number>(xs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) {
      let rem = i;
      let src = 0;
      const st = ins[k]!;
      for (let d = 0; d < shape.length; d++) {
        const q = Math.floor(rem / ost[d]!);
        rem -= q * ost[d]!;
        src += q * st[d]!;
      }
      args[k] = xs[k]!.v[src]!;
    }
    out[i] = f(...args);
  }
  return { dtype, shape, v: out };
}

const bin =
  (f: (a: number, b: number, int: boolean) => number, outBool = false): Fold =>
  (c) => {
    const [a, b] = c.in as [ConstVal, ConstVal];
    const int = isInt(a.dtype);
    return [broadcastMap([a, b], outBool ? 'bool' : a.dtype, (x, y) => f(x!, y!, int))];
  };

const un =
  (f: (a: number) => number): Fold =>
  (c) => {
    const a = c.in[0]!;
    return [{ dtype: a.dtype, shape: a.shape, v: a.v.map(f) as Float32Array | Float64Array }];
  };

/** Casting semantics: to integer types truncates toward zero and wraps like a C cast of small ints. */
export function castValues(a: ConstVal, to: DType): ConstVal {
  const v = Float64Array.from(a.v);
  if (isInt(to) && to !== 'bool') for (let i = 0; i < v.length; i++) v[i] = Math.trunc(v[i]!);
  if (to === 'bool') for (let i = 0; i < v.length; i++) v[i] = v[i] ? 1 : 0;
  return makeConst(to, a.shape, v);
}

/** Flatten's axis: 0…r, negative ones counting from r. */
export const flattenAxis = (axis: number, rank: number): number => normAxis(axis < 0 ? axis + rank : axis, rank + 1);

export function reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
  const total = numElements(inShape);
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return out.map((d) => (d === -1 ? (known === 0 ? 0 : total / known) : d));
}

/** Slice parameters resolved (ONNX clamping rules) per axis: start, step, count. */
export function sliceParams(
  shape: number[],
  starts: number[],
  ends: number[],
  axes: number[] | undefined,
  steps: number[] | undefined,
): { start: number[]; step: number[]; count: number[] } {
  const r = shape.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  const count = [...shape];
  const ax = axes ?? starts.map((_s, i) => i);
  ax.forEach((a0, k) => {
    const a = normAxis(a0, r);
    const d = shape[a]!;
    const st = steps?.[k] ?? 1;
    let s = starts[k]!;
    let e = ends[k]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.max(0, Math.min(s, d));
      e = Math.max(0, Math.min(e, d));
    } else {
      s = Math.max(0, Math.min(s, d - 1));
      e = Math.max(-1, Math.min(e, d - 1));
    }
    start[a] = s;
    step[a] = st;
    count[a] = Math.max(0, Math.ceil((e - s) / st));
  });
  return { start, step, count };
}

export function sliceValues(a: ConstVal, p: { start: number[]; step: number[]; count: number[] }): ConstVal {
  const st = stridesOf(a.shape);
  const n = numElements(p.count);
  const out = a.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  const ost = stridesOf(p.count);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let src = 0;
    for (let d = 0; d < p.count.length; d++) {
      const q = Math.floor(rem / ost[d]!);
      rem -= q * ost[d]!;
      src += (p.start[d]! + q * p.step[d]!) * st[d]!;
    }
    out[i] = a.v[src]!;
  }
  return { dtype: a.dtype, shape: p.count, v: out };
}

export function gatherValues(a: ConstVal, idx: ConstVal, axis0: number): ConstVal {
  const axis = normAxis(axis0, a.shape.length);
  const outer = numElements(a.shape.slice(0, axis));
  const inner = numElements(a.shape.slice(axis + 1));
  const d = a.shape[axis]!;
  const shape = [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)];
  const out = a.dtype === 'float32' ? new Float32Array(numElements(shape)) : new Float64Array(numElements(shape));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const j0 of idx.v) {
      const j = j0 < 0 ? j0 + d : j0;
      for (let k = 0; k < inner; k++) out[o++] = a.v[(i * d + j) * inner + k]!;
    }
  return { dtype: a.dtype, shape, v: out };
}

export function concatValues(xs: ConstVal[], axis0: number): ConstVal {
  const rank = xs[0]!.shape.length;
  const axis = normAxis(axis0, rank);
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  const outer = numElements(shape.slice(0, axis));
  const dtype = xs[0]!.dtype;
  const out = dtype === 'float32' ? new Float32Array(numElements(shape)) : new Float64Array(numElements(shape));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const x of xs) {
      const inner = numElements(x.shape.slice(axis));
      out.set(x.v.subarray(i * inner, (i + 1) * inner), o);
      o += inner;
    }
  return { dtype, shape, v: out };
}

function axesOf(c: FoldCtx, inputAt: number): number[] | undefined {
  return c.in[inputAt] ? Array.from(c.in[inputAt].v) : c.attr.ints('axes');
}

function reduceFold(
  init: number,
  f: (acc: number, x: number) => number,
  post?: (acc: number, n: number) => number,
): Fold {
  return (c) => {
    const a = c.in[0]!;
    const r = a.shape.length;
    const axesIn = c.opset >= 18 ? axesOf(c, 1) : c.attr.ints('axes');
    const axes = new Set((axesIn && axesIn.length ? axesIn : a.shape.map((_d, i) => i)).map((x) => normAxis(x, r)));
    const keep = c.attr.i('keepdims', 1) === 1;
    const full = a.shape.map((d, i) => (axes.has(i) ? 1 : d));
    const n = numElements(full);
    const acc = new Float64Array(n).fill(init);
    const cnt = numElements(a.shape) / Math.max(1, n);
    const st = stridesOf(a.shape);
    const ost = stridesOf(full);
    for (let i = 0; i < a.v.length; i++) {
      let rem = i;
      let o = 0;
      for (let d = 0; d < r; d++) {
        const q = Math.floor(rem / st[d]!);
        rem -= q * st[d]!;
        if (!axes.has(d)) o += q * ost[d]!;
      }
      acc[o] = f(acc[o]!, a.v[i]!);
    }
    const v = post ? acc.map((x) => post(x, cnt)) : acc;
    return [makeConst(a.dtype, keep ? full : a.shape.filter((_d, i) => !axes.has(i)), v)];
  };
}

const CONSTANT_ATTRS: [string, DType][] = [
  ['value_float', 'float32'],
  ['value_floats', 'float32'],
  ['value_int', 'int64'],
  ['value_ints', 'int64'],
];

export const FOLDS: Record<string, Fold> = {
  Constant: (c) => {
    const t = c.attr.tensor('value');
    if (t) return [t];
    for (const [k, dtype] of CONSTANT_ATTRS) {
      if (!c.attr.has(k)) continue;
      const list = k.endsWith('s') ? (dtype === 'float32' ? c.attr.floats(k)! : c.attr.ints(k)!) : undefined;
      if (list) return [makeConst(dtype, [list.length], list)];
      return [makeConst(dtype, [], [dtype === 'float32' ? c.attr.f(k, 0) : c.attr.i(k, 0)])];
    }
    return undefined;
  },
  Identity: (c) => [c.in[0]!],
  Add: bin((a, b) => a + b),
  Sub: bin((a, b) => a - b),
  Mul: bin((a, b) => a * b),
  Div: bin((a, b, int) => (int ? Math.trunc(a / b) : a / b)),
  Pow: bin((a, b) => a ** b),
  Mod: (c) => {
    const fmod = c.attr.i('fmod', 0) === 1;
    return bin((a, b) => (fmod ? a % b : a - b * Math.floor(a / b)))(c);
  },
  Max: (c) => [broadcastMap(c.in as ConstVal[], c.in[0]!.dtype, Math.max)],
  Min: (c) => [broadcastMap(c.in as ConstVal[], c.in[0]!.dtype, Math.min)],
  Sum: (c) => [broadcastMap(c.in as ConstVal[], c.in[0]!.dtype, (...a) => a.reduce((s, x) => s + x, 0))],
  Equal: bin((a, b) => Number(a === b), true),
  Less: bin((a, b) => Number(a < b), true),
  Greater: bin((a, b) => Number(a > b), true),
  LessOrEqual: bin((a, b) => Number(a <= b), true),
  GreaterOrEqual: bin((a, b) => Number(a >= b), true),
  And: bin((a, b) => Number(Boolean(a && b)), true),
  Or: bin((a, b) => Number(Boolean(a || b)), true),
  Not: un((a) => Number(!a)),
  Neg: un((a) => -a),
  Abs: un(Math.abs),
  Sqrt: un(Math.sqrt),
  Floor: un(Math.floor),
  Ceil: un(Math.ceil),
  Exp: un(Math.exp),
  Relu: un((a) => Math.max(0, a)),
  Sign: un(Math.sign),
  Reciprocal: un((a) => 1 / a),
  Where: (c) => {
    const [cond, x, y] = c.in as [ConstVal, ConstVal, ConstVal];
    return [broadcastMap([cond, x, y], x.dtype, (p, a, b) => (p ? a! : b!))];
  },
  Cast: (c) => {
    const to = c.attr.i('to', 1);
    const map: Record<number, DType> = {
      1: 'float32',
      6: 'int32',
      7: 'int64',
      9: 'bool',
      11: 'float64',
      2: 'uint8',
      3: 'int8',
    };
    const d = map[to];
    return d ? [castValues(c.in[0]!, d)] : undefined;
  },
  Reshape: (c) => {
    const a = c.in[0]!;
    const spec = c.opset >= 5 ? Array.from(c.in[1]!.v) : c.attr.ints('shape')!;
    return [{ ...a, shape: reshapeTarget(a.shape, spec, c.attr.i('allowzero', 0) === 1) }];
  },
  Flatten: (c) => {
    const a = c.in[0]!;
    const axis = flattenAxis(c.attr.i('axis', 1), a.shape.length);
    return [{ ...a, shape: [numElements(a.shape.slice(0, axis)), numElements(a.shape.slice(axis))] }];
  },
  Squeeze: (c) => {
    const a = c.in[0]!;
    const axes = (c.opset >= 13 ? axesOf(c, 1) : c.attr.ints('axes'))?.map((x) => normAxis(x, a.shape.length));
    return [{ ...a, shape: a.shape.filter((d, i) => (axes?.length ? !axes.includes(i) : d !== 1)) }];
  },
  Unsqueeze: (c) => {
    const a = c.in[0]!;
    const axes0 = (c.opset >= 13 ? axesOf(c, 1) : c.attr.ints('axes')) ?? [];
    const r = a.shape.length + axes0.length;
    const axes = axes0.map((x) => normAxis(x, r)).sort((x, y) => x - y);
    const shape = [...a.shape];
    for (const x of axes) shape.splice(x, 0, 1);
    return [{ ...a, shape }];
  },
  Concat: (c) => [
    concatValues(
      c.in.filter((x): x is ConstVal => x !== undefined),
      c.attr.i('axis', 0),
    ),
  ],
  Gather: (c) => [gatherValues(c.in[0]!, c.in[1]!, c.attr.i('axis', 0))],
  Slice: (c) => {
    const a = c.in[0]!;
    const p =
      c.opset >= 10
        ? sliceParams(
            a.shape,
            Array.from(c.in[1]!.v),
            Array.from(c.in[2]!.v),
            c.in[3] ? Array.from(c.in[3].v) : undefined,
            c.in[4] ? Array.from(c.in[4].v) : undefined,
          )
        : sliceParams(a.shape, c.attr.ints('starts')!, c.attr.ints('ends')!, c.attr.ints('axes'), undefined);
    return [sliceValues(a, p)];
  },
  Transpose: (c) => {
    const a = c.in[0]!;
    const perm = c.attr.ints('perm') ?? a.shape.map((_d, i) => a.shape.length - 1 - i);
    return [{ dtype: a.dtype, shape: perm.map((p) => a.shape[p]!), v: permuteValues(a.v, a.shape, perm) }];
  },
  ConstantOfShape: (c) => {
    const shape = Array.from(c.in[0]!.v);
    const t = c.attr.tensor('value');
    const fill = t ? t.v[0]! : 0;
    return [makeConst(t?.dtype ?? 'float32', shape, new Float64Array(numElements(shape)).fill(fill))];
  },
  Range: (c) => {
    const [s, l, d] = c.in.map((x) => x!.v[0]!) as [number, number, number];
    const n = Math.max(0, Math.ceil((l - s) / d));
    return [
      makeConst(
        c.in[0]!.dtype,
        [n],
        Array.from({ length: n }, (_v, i) => s + i * d),
      ),
    ];
  },
  Expand: (c) => {
    const a = c.in[0]!;
    const shape = broadcastShapes(a.shape, Array.from(c.in[1]!.v));
    return [broadcastMap([a, makeConst(a.dtype, shape, new Float64Array(numElements(shape)))], a.dtype, (x) => x!)];
  },
  Tile: (c) => {
    let a = c.in[0]!;
    const reps = Array.from(c.in[1]!.v);
    reps.forEach((r, axis) => {
      if (r !== 1) a = concatValues(new Array<ConstVal>(r).fill(a), axis);
    });
    return [a];
  },
  ReduceProd: reduceFold(1, (acc, x) => acc * x),
  ReduceMin: reduceFold(Infinity, Math.min),
  ReduceMax: reduceFold(-Infinity, Math.max),
  ReduceSum: (c) => reduceFold(0, (acc, x) => acc + x)({ ...c, opset: c.opset >= 13 ? 18 : c.opset }),
  ReduceMean: reduceFold(
    0,
    (acc, x) => acc + x,
    (acc, n) => acc / n,
  ),
};
