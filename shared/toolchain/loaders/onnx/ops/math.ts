/** ONNX math ops built from TFLite builtins: clip, reductions, arg min/max, sign, hyperbolic, IsNaN/IsInf, Hardmax, … */

import { numElements } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import { TensorType } from '../../../tflite/schema.js';
import { applyPerm } from '../layout.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import {
  ARITH,
  F32,
  axesArg,
  castTo,
  composite,
  dropAxes,
  floatOnly,
  minMax,
  one,
  operands,
  type OnnxOpConverter,
} from './common.js';

export function clip(c: OnnxCtx): Value[] {
  if (c.opset >= 11 && [1, 2].some((i) => c.has(i) && !c.isConst(i))) {
    floatOnly(c);
    const p = c.perm(0);
    let y = c.tensor(0, p);
    const shape = c.b.g.tensor(y).shape;
    for (const [i, type] of [
      [1, 'MAXIMUM'],
      [2, 'MINIMUM'],
    ] as const) {
      if (!c.has(i)) continue;
      if (c.rank(i) !== 0) throw c.refuse('non-scalar bounds');
      y = c.b.op(
        type,
        [y, c.tensor(i, null)],
        {},
        { outputs: [{ name: i === 2 || !c.has(2) ? c.out() : `${c.name}/lo`, shape, dtype: F32 }] },
      )[0]!;
    }
    return [tensorVal(y, p)];
  }
  const lo = c.opset >= 11 ? (c.has(1) ? c.const(1).v[0]! : -Infinity) : c.attr.f('min', -3.4028234663852886e38);
  const hi = c.opset >= 11 ? (c.has(2) ? c.const(2).v[0]! : Infinity) : c.attr.f('max', 3.4028234663852886e38);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  if (c.dtype(0) !== F32) throw c.refuse(`clips ${c.dtype(0)} values`);
  const big = 3.4e38;
  const L = lo <= -big ? -Infinity : lo;
  const H = hi >= big ? Infinity : hi;
  const name = c.out();
  if (L === 0 && H === 6) return [tensorVal(c.b.unary('RELU6', x, { name }), p)];
  if (L === 0 && H === Infinity) return [tensorVal(c.b.unary('RELU', x, { name }), p)];
  if (L === -1 && H === 1) return [tensorVal(c.b.unary('RELU_N1_TO_1', x, { name }), p)];
  if (L === 0 && H === 1)
    return [tensorVal(minMax(c, c.b.unary('RELU', x, { name: `${name}/relu` }), -Infinity, 1), p)];
  return [tensorVal(minMax(c, x, L, H), p)];
}

export function reduce(
  type: string,
  axesInputFrom: number,
  pre?: (c: OnnxCtx, x: number) => number,
  post?: (c: OnnxCtx, y: number) => number,
): OnnxOpConverter {
  return (c) => {
    floatOnly(c);
    const runtimeAxes = c.opset >= axesInputFrom && c.has(1) && !c.isConst(1);
    // axes fed at run time but declared with no elements are no axes
    const emptyAxes = runtimeAxes && c.shape(1)[0] === 0;
    if (runtimeAxes && !emptyAxes) return runtimeAxesReduce(c, type, pre, post);
    const r = c.rank(0);
    const axes0 = emptyAxes ? [] : axesArg(c, 1, axesInputFrom);
    if ((!axes0 || axes0.length === 0) && c.attr.i('noop_with_empty_axes', 0) === 1) return [c.value(0)];
    const axes = new Set((axes0?.length ? axes0 : Array.from({ length: r }, (_v, i) => i)).map((a) => normAxis(a, r)));
    const keep = c.attr.i('keepdims', 1) === 1;
    const p = c.perm(0);
    let x = c.tensor(0, p);
    if (pre) x = pre(c, x);
    const phys = [...axes].map((a) => (p ? p.indexOf(a) : a)).sort((a, b) => a - b);
    const name = post ? `${c.name}/reduce` : c.out();
    let y = c.b.op(
      type,
      [x, c.b.constant(`${c.name}/axes`, 'int32', [phys.length], phys)],
      { keepDims: keep },
      { outputs: [{ name }] },
    )[0]!;
    if (post) y = post(c, y);
    return [tensorVal(y, keep ? p : dropAxes(p, r, axes))];
  };
}

/**
 * A reduction over axes computed at run time: TFLite's reduce kernels take the axes as an int32 tensor (negative
 * axes count from the end; no axes reduce nothing, which is ONNX's noop_with_empty_axes=1). The output shape then
 * depends on values, so it is the one the model declares.
 */
function runtimeAxesReduce(
  c: OnnxCtx,
  type: string,
  pre?: (c: OnnxCtx, x: number) => number,
  post?: (c: OnnxCtx, y: number) => number,
): Value[] {
  const n = c.shape(1)[0];
  if (c.attr.i('noop_with_empty_axes', 0) !== 1 && !(n !== undefined && n > 0))
    throw c.refuse(
      'axes computed at run time that may be empty (reduce over all axes)',
      'Give the axes as a constant, or set noop_with_empty_axes=1',
    );
  const shape = c.declared(0);
  if (!shape) throw c.refuse('axes computed at run time and no declared output shape');
  let x = c.tensor(0, null);
  if (pre) x = pre(c, x);
  const axes = castTo(c, c.tensor(1, null), 'int32', `${c.name}/axes_i32`);
  const name = post ? `${c.name}/reduce` : c.out();
  let y = c.b.op(
    type,
    [x, axes],
    { keepDims: c.attr.i('keepdims', 1) === 1 },
    { outputs: [{ name, shape, dtype: F32 }] },
  )[0]!;
  if (post) y = post(c, y);
  return [tensorVal(y, null)];
}

export function argMinMax(type: 'ARG_MAX' | 'ARG_MIN'): OnnxOpConverter {
  return (c) => {
    const last = c.attr.i('select_last_index', 0) === 1;
    const r = c.rank(0);
    const axis = normAxis(c.attr.i('axis', 0), r);
    const keep = c.attr.i('keepdims', 1) === 1;
    const p = c.perm(0);
    let x = c.tensor(0, p);
    const pa = p ? p.indexOf(axis) : axis;
    const full = c.b.g.tensor(x).shape;
    const phys = full.filter((_d, i) => i !== pa);
    // the last index of ties: the first one along the reversed axis, counted from the end
    if (last)
      x = c.b.op(
        'REVERSE_V2',
        [x, c.b.constant(`${c.name}/rev_axis`, 'int32', [1], [pa])],
        {},
        { outputs: [{ name: `${c.name}/reversed`, shape: full, dtype: c.dtype(0) }] },
      )[0]!;
    let y = c.b.op(
      type,
      [x, c.b.constant(`${c.name}/axis`, 'int32', [1], [pa])],
      { outputType: TensorType.INT64 },
      { outputs: [{ name: keep || last ? `${c.name}/arg` : c.out(), shape: phys, dtype: 'int64' }] },
    )[0]!;
    if (last)
      y = c.b.op(
        'SUB',
        [c.b.constant(`${c.name}/last`, 'int64', [], [full[pa]! - 1]), y],
        { fusedActivationFunction: 0 },
        { outputs: [{ name: keep ? `${c.name}/arg_last` : c.out(), shape: phys, dtype: 'int64' }] },
      )[0]!;
    if (!keep) return [tensorVal(y, dropAxes(p, r, new Set([axis])))];
    const kept = [...phys];
    kept.splice(pa, 0, 1);
    y = c.b.reshape(y, kept, { name: c.out() });
    return [tensorVal(y, p)];
  };
}

/** Trilu on a static shape: a product with a constant 0/1 mask. */
export function trilu(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  if (s.length < 2) throw c.refuse('a tensor of rank below 2');
  if (!ARITH.includes(c.dtype(0))) throw c.refuse(`${c.dtype(0)} values`);
  const upper = c.attr.i('upper', 1) === 1;
  const [n, m] = s.slice(-2) as [number, number];
  if (c.has(1) && !c.isConst(1)) {
    // k computed at run time: the mask is (j − i ≥ k) or (j − i ≤ k), compared in the graph
    const kt = c.tensor(1, null);
    const kd = c.b.g.tensor(kt).dtype;
    const diag = Array.from({ length: n * m }, (_v, q) => (q % m) - Math.floor(q / m));
    const keep = c.b.op(
      upper ? 'GREATER_EQUAL' : 'LESS_EQUAL',
      [c.b.constant(`${c.name}/j_minus_i`, kd, [n, m], diag), c.b.reshape(kt, [], { name: `${c.name}/k` })],
      {},
      { outputs: [{ name: `${c.name}/mask`, shape: [n, m], dtype: 'bool' }] },
    )[0]!;
    const zero = c.b.constant(`${c.name}/zero`, c.dtype(0), [], [0]);
    return [tensorVal(one(c, 'SELECT_V2', [keep, c.tensor(0, null), zero], {}, s, c.dtype(0)))];
  }
  const k = c.has(1) ? c.const(1).v[0]! : 0;
  const mask = Array.from({ length: n * m }, (_v, q) => {
    const i = Math.floor(q / m);
    const j = q % m;
    return Number(upper ? j - i >= k : j - i <= k);
  });
  const x = c.tensor(0, null);
  const mk = c.b.constant(`${c.name}/mask`, c.dtype(0), [n, m], mask);
  return [tensorVal(one(c, 'MUL', [x, mk], { fusedActivationFunction: 0 }, s, c.dtype(0)))];
}

export function thresholdedRelu(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const shape = c.b.g.tensor(x).shape;
  const cond = c.b.op(
    'GREATER',
    [x, c.b.constant(`${c.name}/alpha`, F32, [], [c.attr.f('alpha', 1)])],
    {},
    { outputs: [{ name: `${c.name}/above` }] },
  )[0]!;
  const y = one(c, 'SELECT_V2', [cond, x, c.b.constant(`${c.name}/zero`, F32, [], [0])], {}, shape, F32);
  return [tensorVal(y, p)];
}

export function cumsum(c: OnnxCtx): Value[] {
  if (!ARITH.includes(c.dtype(0)) || c.dtype(0) === 'int64') throw c.refuse(`${c.dtype(0)} values`);
  const r = c.rank(0);
  const axis = normAxis(c.ints(1)[0]!, r);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const pa = p ? p.indexOf(axis) : axis;
  const y = one(
    c,
    'CUMSUM',
    [x, c.b.constant(`${c.name}/axis`, 'int32', [], [pa])],
    { exclusive: c.attr.i('exclusive', 0) === 1, reverse: c.attr.i('reverse', 0) === 1 },
    c.b.g.tensor(x).shape,
    c.dtype(0),
  );
  return [tensorVal(y, p)];
}

/** A float32 result of a boolean test: CAST(bool → float32). */
export function boolToFloat(c: OnnxCtx, x: number, name: string): number {
  return castTo(c, x, F32, name);
}

/** Sign(x) = (x > 0) − (x < 0). */
export const sign = composite((c, x) => {
  const zero = c.b.constant(`${c.name}/zero`, F32, [], [0]);
  const pos = boolToFloat(
    c,
    c.b.op('GREATER', [x, zero], {}, { outputs: [{ name: `${c.name}/gt` }] })[0]!,
    `${c.name}/pos`,
  );
  const neg = boolToFloat(
    c,
    c.b.op('LESS', [x, zero], {}, { outputs: [{ name: `${c.name}/lt` }] })[0]!,
    `${c.name}/neg`,
  );
  return c.b.binary('SUB', pos, neg, {}, { name: c.out() });
});

/** (exp(x) ∓ exp(−x)) / 2. */
export const hyperbolic = (type: 'SUB' | 'ADD'): OnnxOpConverter =>
  composite((c, x) => {
    const d = c.b.binary(type, c.b.unary('EXP', x), c.b.unary('EXP', c.b.unary('NEG', x)));
    return c.b.binary('MUL', d, c.b.constant(`${c.name}/half`, F32, [], [0.5]), {}, { name: c.out() });
  });

export function isNaN(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  return [tensorVal(one(c, 'NOT_EQUAL', [x, x], {}, c.b.g.tensor(x).shape, 'bool'), p)];
}

export function isInf(c: OnnxCtx): Value[] {
  floatOnly(c);
  const p = c.perm(0);
  const x = c.tensor(0, p);
  const shape = c.b.g.tensor(x).shape;
  const pos = c.attr.i('detect_positive', 1) === 1;
  const neg = c.attr.i('detect_negative', 1) === 1;
  const eq = (v: number, name: string): number =>
    c.b.op(
      'EQUAL',
      [x, c.b.constant(`${name}/value`, F32, [], [v])],
      {},
      { outputs: [{ name, shape, dtype: 'bool' }] },
    )[0]!;
  if (pos && neg)
    return [
      tensorVal(
        one(c, 'LOGICAL_OR', [eq(Infinity, `${c.name}/pos`), eq(-Infinity, `${c.name}/neg`)], {}, shape, 'bool'),
        p,
      ),
    ];
  // neither sign asked for: always false
  if (!pos && !neg)
    return [
      tensorVal(
        one(c, 'LOGICAL_AND', [eq(Infinity, `${c.name}/pos`), eq(-Infinity, `${c.name}/neg`)], {}, shape, 'bool'),
        p,
      ),
    ];
  return [tensorVal(eq(pos ? Infinity : -Infinity, c.out()), p)];
}

/** Hardmax: one-hot of the arg-max along the axis (opset 13: one axis; earlier opsets flatten from the axis). */
export function hardmax(c: OnnxCtx): Value[] {
  floatOnly(c);
  const r = c.rank(0);
  const s = c.shape(0);
  const x0 = c.tensor(0, null);
  let x = x0;
  let axis: number;
  if (c.opset < 13) {
    const a = normAxis(c.attr.i('axis', 1), r);
    x = c.b.reshape(x0, [numElements(s.slice(0, a)), numElements(s.slice(a))], { name: `${c.name}/2d` });
    axis = 1;
  } else axis = normAxis(c.attr.i('axis', -1), r);
  const xs = c.b.g.tensor(x).shape;
  const depth = xs[axis]!;
  const idxShape = xs.filter((_d, i) => i !== axis);
  const idx = c.b.op(
    'ARG_MAX',
    [x, c.b.constant(`${c.name}/axis`, 'int32', [1], [axis])],
    { outputType: TensorType.INT32 },
    { outputs: [{ name: `${c.name}/argmax`, shape: idxShape, dtype: 'int32' }] },
  )[0]!;
  const y = c.b.op(
    'ONE_HOT',
    [
      idx,
      c.b.constant(`${c.name}/depth`, 'int32', [], [depth]),
      c.b.constant(`${c.name}/on`, F32, [], [1]),
      c.b.constant(`${c.name}/off`, F32, [], [0]),
    ],
    { axis },
    { outputs: [{ name: c.opset < 13 ? `${c.name}/onehot` : c.out(), shape: xs, dtype: F32 }] },
  )[0]!;
  return [tensorVal(c.opset < 13 ? c.b.reshape(y, s, { name: c.out() }) : y)];
}

/** log(x + √(x² ± 1)): asinh (+) and acosh (−). */
export const inverseHyperbolic = (k: number): OnnxOpConverter =>
  composite((c, x) => {
    const r = c.b.unary('SQRT', c.b.binary('ADD', c.b.binary('MUL', x, x), c.b.constant(`${c.name}/k`, F32, [], [k])));
    return c.b.unary('LOG', c.b.binary('ADD', x, r), { name: c.out() });
  });

/** Shrink: x − bias above lambd, x + bias below −lambd, 0 between (two SELECT_V2s). */
export const shrink = composite((c, x) => {
  const lambd = c.attr.f('lambd', 0.5);
  const bias = c.attr.f('bias', 0);
  const s = c.b.g.tensor(x).shape;
  const k = (what: string, v: number): number => c.b.constant(`${c.name}/${what}`, F32, [], [v]);
  const cmp = (type: string, v: number, what: string): number =>
    c.b.op(type, [x, k(what, v)], {}, { outputs: [{ name: `${c.name}/${what}_mask`, shape: s, dtype: 'bool' }] })[0]!;
  const select = (cond: number, a: number, b: number, name: string): number =>
    c.b.op('SELECT_V2', [cond, a, b], {}, { outputs: [{ name, shape: s, dtype: F32 }] })[0]!;
  const above = select(
    cmp('GREATER', lambd, 'above'),
    c.b.binary('SUB', x, k('bias', bias)),
    k('zero', 0),
    `${c.name}/upper`,
  );
  return select(cmp('LESS', -lambd, 'below'), c.b.binary('ADD', x, k('bias_up', bias)), above, c.out());
});

/**
 * Pow, whose result has the base's type. TFLite's POW takes float32 or int32 operands of one type: a float32 base
 * takes the exponent as float32; an int32 base an integer exponent as int32, a float32 exponent by computing in float32
 * and truncating back (CAST), as ONNX's reference does. int64 bases are refused (no int64 kernel).
 */
export function pow(c: OnnxCtx): Value[] {
  const base = c.dtype(0);
  const exp = c.isConst(1) && c.dtype(1) === 'float64' ? F32 : c.dtype(1);
  const ints = ['int32', 'int64'];
  if (base !== F32 && base !== 'int32')
    throw c.refuse(`computes on ${base}, TFLite's kernel for it takes float32 or int32`);
  if (exp !== F32 && !ints.includes(exp)) throw c.refuse(`a ${exp} exponent`);
  const { ids, perm, shape } = operands(c, [0, 1]);
  const at = base === 'int32' && exp !== F32 ? 'int32' : F32;
  const [x, y] = ids.map((id, k) => castTo(c, id, at, `${c.name}/operand${k}`));
  const phys = applyPerm(shape, perm);
  const name = at === base ? c.out() : `${c.name}/pow`;
  const z = c.b.op('POW', [x!, y!], {}, { outputs: [{ name, shape: phys, dtype: at }] })[0]!;
  return [tensorVal(at === base ? z : castTo(c, z, base, c.out()), perm)];
}
