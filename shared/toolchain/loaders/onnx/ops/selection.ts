/**
 * ONNX ops that pick or place elements by value or position: OneHot, TopK, ReverseSequence, NonZero, Compress. All
 * work in the ONNX layout. Sizes that depend on the data (NonZero's and Compress's count, TopK's k and OneHot's depth
 * when they are computed at run time) are the ones the model declares for the output; without one the op is refused.
 */

import { numElements } from '../../../ir/graph.js';
import { normAxis } from '../../../ir/axis.js';
import { transpose, tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, TT, castTo, one, typedOp as op } from './common.js';
import { binaryWithConst } from './flat-binary.js';

const I32 = 'int32';

/** A size the model fixes: constant input i's first value, else dimension `axis` of the declared output. */
function fixedSize(c: OnnxCtx, i: number, axis: number, what: string): number {
  if (c.isConst(i)) return Math.trunc(c.const(i).v[0]!);
  const d = c.declared()?.[axis];
  if (d === undefined)
    throw c.refuse(
      `${what} (input ${i}) is computed at run time and the model declares no output shape that fixes it`,
      `Give ${what} as a constant`,
    );
  return d;
}

/** Input i as a bool tensor: bool as is, numbers compared with zero (NOT_EQUAL). */
function asBool(c: OnnxCtx, i: number): number {
  const x = c.tensor(i, null);
  if (c.dtype(i) === 'bool') return x;
  if (TT[c.dtype(i)] === undefined) throw c.refuse(`a ${c.dtype(i)} condition`);
  const zero = c.b.constant(`${c.name}/zero${i}`, c.dtype(i), [], [0]);
  return binaryWithConst(c, 'NOT_EQUAL', x, zero, 'bool', `${c.name}/nonzero${i}`);
}

/**
 * OneHot → ONE_HOT. Indices are cast to int32 (floats truncated, as ONNX casts them) and −depth … −1 moved up by
 * depth (SELECT_V2 on LESS than zero; TFLite's kernel leaves negative indices all off); the [off, on] values are
 * picked as scalars (GATHER) when they come at run time.
 */
export function oneHot(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const a = normAxis(c.attr.i('axis', -1), r + 1);
  const depth = fixedSize(c, 1, a, 'depth');
  const ishape = c.shape(0);
  const outShape = [...ishape.slice(0, a), depth, ...ishape.slice(a)];
  let idx: number;
  if (c.isConst(0))
    idx = c.b.constant(
      `${c.name}/indices`,
      I32,
      ishape,
      Int32Array.from(c.const(0).v, (x) => {
        const t = Math.trunc(x);
        return t < 0 ? t + depth : t;
      }),
    );
  else {
    const dt = c.dtype(0);
    if (dt !== F32 && dt !== I32 && dt !== 'int64') throw c.refuse(`${dt} indices`);
    const x = castTo(c, c.tensor(0, null), I32, `${c.name}/indices32`);
    const neg = binaryWithConst(
      c,
      'LESS',
      x,
      c.b.constant(`${c.name}/zero`, I32, [], [0]),
      'bool',
      `${c.name}/negative`,
    );
    const up = binaryWithConst(c, 'ADD', x, c.b.constant(`${c.name}/depth_up`, I32, [], [depth]), I32, `${c.name}/up`, {
      fusedActivationFunction: 0,
    });
    idx = op(c, 'SELECT_V2', [neg, up, x], ishape, I32, `${c.name}/indices`);
  }
  const vt = c.dtype(2) === 'float64' ? F32 : c.dtype(2);
  if (![F32, I32, 'int64', 'bool'].includes(vt)) throw c.refuse(`${vt} values`);
  const scalar = (k: number, tag: string): number => {
    if (c.isConst(2)) return c.b.constant(`${c.name}/${tag}`, vt, [], [c.const(2).v[k]!]);
    return op(
      c,
      'GATHER',
      [c.tensor(2, null), c.b.constant(`${c.name}/${tag}_at`, I32, [], [k])],
      [],
      vt,
      `${c.name}/${tag}`,
      { axis: 0, batchDims: 0 },
    );
  };
  const d = c.b.constant(`${c.name}/depth`, I32, [], [depth]);
  return [tensorVal(one(c, 'ONE_HOT', [idx, d, scalar(1, 'on'), scalar(0, 'off')], { axis: a }, outShape, vt))];
}

/**
 * TopK → TOPK_V2, which takes the k largest along the last axis (equal values: lower index first, as ONNX): other
 * axes are transposed there and back, the smallest are the largest of the negated input (NEG before and after), and
 * the int32 indices are cast to int64. k computed at run time is the declared output's size along the axis.
 */
export function topK(c: OnnxCtx): Value[] {
  const s = c.shape(0);
  const r = s.length;
  const axis = normAxis(c.attr.i('axis', -1), r);
  const k = c.opset >= 10 ? fixedSize(c, 1, axis, 'k') : c.attr.i('k', 1);
  const largest = c.attr.i('largest', 1) === 1;
  const dt = c.dtype(0);
  if (![F32, I32, 'int64'].includes(dt)) throw c.refuse(`top-k of ${dt}`);
  if (k < 0 || k > s[axis]!) throw c.refuse(`k ${k} outside [0, ${s[axis]}]`);
  const perm = Array.from({ length: r }, (_v, i) => (i === axis ? r - 1 : i === r - 1 ? axis : i));
  const moved = axis !== r - 1;
  let x = c.tensor(0, null);
  if (moved) x = transpose(c.b, x, perm, `${c.name}/last`);
  const xs = c.b.g.tensor(x).shape;
  if (!largest) x = op(c, 'NEG', [x], xs, dt, `${c.name}/negated`);
  const ys = [...xs.slice(0, -1), k];
  const last = !moved && largest;
  const [v0, i0] = c.b.op(
    'TOPK_V2',
    [x, c.b.constant(`${c.name}/k`, I32, [], [k])],
    {},
    {
      outputs: [
        { name: last ? c.out(0) : `${c.name}/top_values`, shape: ys, dtype: dt },
        { name: `${c.name}/top_indices`, shape: ys, dtype: I32 },
      ],
    },
  ) as [number, number];
  let v = v0;
  let i = i0;
  if (!largest) v = op(c, 'NEG', [v], ys, dt, moved ? `${c.name}/values` : c.out(0));
  if (moved) {
    v = transpose(c.b, v, perm, c.out(0));
    i = transpose(c.b, i, perm, `${c.name}/indices_axis`);
  }
  return [tensorVal(v), tensorVal(castTo(c, i, 'int64', c.out(1)))];
}

/** ReverseSequence → REVERSE_SEQUENCE (time axis = seq_dim, batch axis = batch_dim). */
export function reverseSequence(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const time = normAxis(c.attr.i('time_axis', 0), r);
  const batch = normAxis(c.attr.i('batch_axis', 1), r);
  const dt = c.dtype(0);
  if (![F32, I32, 'int64'].includes(dt)) throw c.refuse(`reversing ${dt} sequences`);
  const lens = c.isConst(1)
    ? c.b.constant(`${c.name}/lengths`, I32, c.shape(1), Int32Array.from(c.const(1).v))
    : castTo(c, c.tensor(1, null), I32, `${c.name}/lengths`);
  return [
    tensorVal(one(c, 'REVERSE_SEQUENCE', [c.tensor(0, null), lens], { seqDim: time, batchDim: batch }, c.shape(0), dt)),
  ];
}

/** The declared [rank, n] shape of NonZero's output (n depends on the data). */
function declaredCount(c: OnnxCtx, what: string, shape?: number[]): number[] {
  const out = c.declared();
  if (!out || (shape && out.length !== shape.length))
    throw c.refuse(
      `${what}: its output size depends on the data and the model declares no fixed output shape`,
      'Declare the output shape in the model (value_info / graph output), or fix the input so the result folds',
    );
  return out;
}

/** NonZero → WHERE ([n, rank] int64 coordinates), TRANSPOSE to ONNX's [rank, n]. */
export function nonZero(c: OnnxCtx): Value[] {
  const r = c.rank(0);
  const out = declaredCount(c, 'NonZero', [r, 0]);
  if (out[0] !== r) throw c.refuse(`a declared output shape [${out.join(', ')}] for a rank-${r} input`);
  const n = out[1]!;
  const w = op(c, 'WHERE', [asBool(c, 0)], [n, r], 'int64', `${c.name}/coords`);
  return [tensorVal(transpose(c.b, w, [1, 0], c.out()))];
}

/**
 * Compress → GATHER along the axis (the flattened input without one) at the positions where the condition holds:
 * computed at conversion for a constant condition, else WHERE's [n, 1] positions, the count the declared output's.
 */
export function compress(c: OnnxCtx): Value[] {
  const hasAxis = c.attr.has('axis');
  const s0 = c.shape(0);
  const s = hasAxis ? s0 : [numElements(s0)];
  const a = hasAxis ? normAxis(c.attr.i('axis', 0), s0.length) : 0;
  const x = hasAxis ? c.tensor(0, null) : c.b.reshape(c.tensor(0, null), s, { name: `${c.name}/flat` });
  const dt = c.dtype(0);
  if (c.isConst(1)) {
    const v = c.const(1).v;
    const picks = Array.from(v.subarray(0, s[a]!)).flatMap((b, i) => (b ? [i] : []));
    const shape = [...s.slice(0, a), picks.length, ...s.slice(a + 1)];
    const idx = c.b.constant(`${c.name}/positions`, I32, [picks.length], picks);
    return [tensorVal(one(c, 'GATHER', [x, idx], { axis: a, batchDims: 0 }, shape, dt))];
  }
  if (c.shape(1)[0]! > s[a]!) throw c.refuse(`a condition longer (${c.shape(1)[0]}) than the axis (${s[a]})`);
  const out = declaredCount(c, 'Compress', s);
  const n = out[a]!;
  const w = op(c, 'WHERE', [asBool(c, 1)], [n, 1], 'int64', `${c.name}/positions`);
  const gs = [...s.slice(0, a), n, 1, ...s.slice(a + 1)];
  const g = op(c, 'GATHER', [x, w], gs, dt, `${c.name}/picked`, { axis: a, batchDims: 0 });
  return [tensorVal(c.b.reshape(g, out, { name: c.out() }))];
}
